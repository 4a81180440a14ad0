// otel/nomad/netwatch.nomad.hcl parses as HCL2 (HashiCorp's parser, compiled to wasm), is a system
// job with the agent and a collector sidecar, and its embedded configs agree with the repository:
// the collector config is otel/collector.yaml, the agent config validates (in process and with
// `netwatch validate`) in the environment Nomad gives the task, points at that collector, and reaches
// Nomad through the Task API with the task's workload identity. The ACL policy: nomad-policy.test.ts.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { loadConfigFile, parseConfig, parseDuration } from '../../../src/config';
import { allRoutes } from '../../../src/server/openapi';
import { CLI } from '../../helpers/cli';
import {
  agentYamlOf,
  DOCKER_TASK_DIRS,
  identityOf,
  JOB_PATH as JOB,
  POLICY_PATH,
  readShippedJob,
  taskApiAddress,
  taskEnvironment,
  templateOf,
  tokenFilePath,
  unescapeHcl,
  type ShippedJob,
} from '../../helpers/nomad-job';
import { repoPath } from '../../helpers/paths';

let shipped: ShippedJob;
let job: any;
let tasks: Record<string, any>;

before(async () => {
  shipped = await readShippedJob();
  ({ job, tasks } = shipped);
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
  const cfg = parseConfig(agentYamlOf(shipped), JOB, taskEnvironment(shipped, 'netwatch'));
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

test('the agent task has a workload identity whose token Nomad writes to a file, not to the environment', () => {
  assert.deepEqual(identityOf(tasks.netwatch), { file: true });
  assert.equal(identityOf(tasks['otel-collector']), undefined, 'the collector sidecar never talks to Nomad');
});

test("nomad_autostart reaches Nomad through the Task API with the identity's token, from what Nomad gives the task", () => {
  const yaml = agentYamlOf(shipped);
  const env = taskEnvironment(shipped, 'netwatch');
  // Only variables Nomad sets, so the agent never starts with an empty one (NOMAD_TOKEN and
  // NOMAD_UNIX_ADDR would need identity env = true).
  const used = [...yaml.matchAll(/\$\{env:([A-Za-z_][A-Za-z0-9_]*)(:-[^}]*)?\}/g)].filter((m) => m[2] === undefined).map((m) => m[1]!);
  assert.ok(used.length > 0);
  for (const name of used) assert.ok(name in env, `agent.yaml uses \${env:${name}}, which Nomad does not set in this task`);
  const autostart = parseConfig(yaml, JOB, env).processors.nomad_autostart;
  assert.ok(autostart?.type === 'nomad_autostart');
  assert.equal(autostart.address, taskApiAddress(DOCKER_TASK_DIRS.secrets), 'the Task API socket');
  assert.equal(autostart.token_file, tokenFilePath(DOCKER_TASK_DIRS.secrets), 'the file identity { file = true } writes');
  assert.equal(autostart.token, '', 'no token besides the file');
  assert.ok(autostart.rules.length > 0, 'an example rule');
  assert.ok(!autostart.dry_run);
});

test('the job tells how to attach the policy to the agent task, and the policy file says the same', () => {
  const apply = /nomad acl policy apply -namespace (\S+) -job (\S+) -group (\S+) -task (\S+) \\\n#\s+-description "[^"]+" (\S+) (\S+)/;
  const inJob = apply.exec(shipped.text);
  assert.ok(inJob, 'the job names the command');
  assert.deepEqual(inJob.slice(1), [job.namespace ?? 'default', 'netwatch', 'netwatch', 'netwatch', 'netwatch-autostart', POLICY_PATH]);
  assert.deepEqual(apply.exec(readFileSync(repoPath(POLICY_PATH), 'utf8'))?.slice(1), inJob.slice(1));
  assert.ok(shipped.group.task.netwatch, 'the task the policy is attached to exists');
});

test('`netwatch validate` accepts the embedded agent.yaml in the environment Nomad gives the task', () => {
  const dir = mkdtempSync(join(tmpdir(), 'netwatch-nomad-job-'));
  try {
    const file = join(dir, 'agent.yaml');
    writeFileSync(file, agentYamlOf(shipped));
    const r = spawnSync(process.execPath, [CLI, 'validate', '-c', file], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', ...taskEnvironment(shipped, 'netwatch') },
      timeout: 30_000,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /nomad_autostart/);
    assert.match(r.stdout, /unix:\/\/\/secrets\/api\.sock/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
