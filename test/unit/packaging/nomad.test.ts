// otel/nomad/netwatch.nomad.hcl parses as HCL2 (HashiCorp's parser, compiled to wasm), is a system
// job with the agent and a collector sidecar, and its embedded configs agree with the repository:
// the collector config is otel/collector.yaml, the agent config validates and points at that collector.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, test } from 'node:test';
import { parse as parseHcl } from '@cdktf/hcl2json';
import { parse as parseYaml } from 'yaml';
import { loadConfigFile, parseConfig, parseDuration } from '../../../src/config';
import { allRoutes } from '../../../src/server/openapi';
import { repoPath } from '../../helpers/paths';

const JOB = 'otel/nomad/netwatch.nomad.hcl';
let job: any;
let tasks: Record<string, any>;

/** HCL template text → what Nomad hands the task: `$${` and `%%{` are HCL's escapes for `${` and `%{`. */
function unescapeHcl(s: string): string {
  return s.replace(/\$\$\{/g, '${').replace(/%%\{/g, '%{');
}
const templateOf = (task: any, destination: string): any => task.template.find((t: any) => t.destination === destination);

before(async () => {
  const parsed = (await parseHcl(JOB, readFileSync(repoPath(JOB), 'utf8'))) as any;
  job = parsed.job.netwatch[0];
  const group = job.group.netwatch[0];
  tasks = Object.fromEntries(Object.entries(group.task).map(([name, t]) => [name, (t as any[])[0]]));
});

test('the job is a system job with the agent and an OpenTelemetry Collector sidecar', () => {
  assert.equal(job.type, 'system');
  assert.deepEqual(Object.keys(tasks).sort(), ['netwatch', 'otel-collector']);
  assert.deepEqual(tasks['otel-collector'].lifecycle, [{ hook: 'prestart', sidecar: true }]);
});

test('the agent task runs privileged with the host pid and network namespaces and the kernel mounts', () => {
  const t = tasks.netwatch;
  assert.equal(t.driver, 'docker');
  const cfg = t.config[0];
  assert.deepEqual([cfg.privileged, cfg.network_mode, cfg.pid_mode], [true, 'host', 'host']);
  assert.deepEqual(cfg.mount.map((m: any) => m.target).sort(), [
    '/etc/netwatch/agent.yaml',
    '/sys/fs/bpf',
    '/sys/fs/cgroup',
    '/sys/kernel/btf',
    '/sys/kernel/tracing',
  ]);
  assert.deepEqual([t.kill_signal, t.template[0].change_signal], ['SIGTERM', 'SIGHUP']);
});

test('no heredoc has an unescaped ${ (HCL would interpolate it instead of passing it on)', () => {
  for (const [name, t] of Object.entries(tasks)) {
    for (const tpl of t.template) assert.doesNotMatch(tpl.data.replace(/\$\$\{/g, ''), /\$\{/, `${name}: ${tpl.destination}`);
  }
});

test('the collector sidecar is given exactly otel/collector.yaml', () => {
  const data = unescapeHcl(templateOf(tasks['otel-collector'], 'local/collector.yaml').data);
  assert.equal(data, readFileSync(repoPath('otel/collector.yaml'), 'utf8'));
  assert.deepEqual(tasks['otel-collector'].config[0].args, ['--config=/local/collector.yaml']);
});

test("the agent's embedded agent.yaml validates, exports to the sidecar's OTLP/gRPC receiver, and serves /readyz on the job's port", () => {
  const cfg = parseConfig(unescapeHcl(templateOf(tasks.netwatch, 'local/agent.yaml').data), JOB, {});
  const collector = parseYaml(readFileSync(repoPath('otel/collector.yaml'), 'utf8'));
  const otlp = cfg.exporters.otlp;
  assert.equal(otlp.type, 'otlp');
  assert.equal(otlp.type === 'otlp' && otlp.metrics.endpoint.replace(/^http:\/\//, ''), collector.receivers.otlp.protocols.grpc.endpoint);
  assert.equal(otlp.type === 'otlp' && otlp.metrics.tls.insecure, true, 'plaintext on loopback, as the collector receiver has no TLS');
  const group = job.group.netwatch[0];
  assert.equal(cfg.service.server.port, group.network[0].port.api[0].static);
  const check = tasks.netwatch.service[0].check[0];
  const route = allRoutes('x').find((r) => r.path === check.path);
  assert.ok(route && !route.auth, 'the check hits a route that needs no token');
  assert.ok(parseDuration(tasks.netwatch.kill_timeout)! > cfg.service.shutdown_timeout_ms, 'Nomad waits longer than the agent takes to stop');
});

test('otel/collector.yaml: every pipeline names defined components; it receives what the shipped agent.yaml sends', () => {
  const c = parseYaml(readFileSync(repoPath('otel/collector.yaml'), 'utf8'));
  for (const [id, p] of Object.entries<any>(c.service.pipelines)) {
    for (const r of p.receivers) assert.ok(r in c.receivers, `${id}: receiver ${r}`);
    for (const r of p.processors) assert.ok(r in c.processors, `${id}: processor ${r}`);
    for (const r of p.exporters) assert.ok(r in c.exporters, `${id}: exporter ${r}`);
  }
  assert.deepEqual(Object.keys(c.service.pipelines).sort(), ['logs', 'metrics']);
  for (const e of c.service.extensions) assert.ok(e in c.extensions);
  const shipped = loadConfigFile(repoPath('config/agent.yaml'), {}).exporters.otlp_grpc;
  const port = (endpoint: string) => Number(endpoint.split(':').pop());
  assert.equal(shipped.type === 'otlp' && port(shipped.metrics.endpoint), port(c.receivers.otlp.protocols.grpc.endpoint));
  const http = loadConfigFile(repoPath('config/examples/otlphttp-json.yaml'), {}).exporters;
  const h = Object.values(http).find((e) => e.type === 'otlphttp');
  assert.equal(h?.type === 'otlphttp' && port(h.metrics.endpoint.replace(/\/v1\/metrics$/, '')), port(c.receivers.otlp.protocols.http.endpoint));
});
