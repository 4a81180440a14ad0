// 100 000 processes that each make one connection and exit at once, from two programs at the same
// time: pids wrap around (pid_max is often 32768) and are reused by the other program within
// seconds. Every connection is counted exactly and attributed to the program that made it (the
// kernel names the executable when the socket connects, so pid reuse cannot mislead it), with the
// shipped ring size: the counts do not depend on the ring. Every cache stays within its bound, and
// the agent's memory stays bounded.
import assert from 'node:assert/strict';
import { execFileSync, execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { test } from 'node:test';
import { RunningCli } from '../helpers/cli';
import { OtlpSink } from '../helpers/otlp-sink';
import { freePort } from '../helpers/ports';
import { startTraffic, stopChild } from '../helpers/processes';

const PER_PROGRAM = 50_000;
const SOURCE = join(__dirname, '../../../test/helpers/c/forkstorm.c');
const rssBytes = (pid: number): number => Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;

test(`${2 * PER_PROGRAM} short-lived processes from two programs: each connection attributed to its program, caches within bounds, memory bounded`, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nw-forks-'));
  const a = join(dir, 'nwstorm-a'),
    b = join(dir, 'nwstorm-b');
  execFileSync('clang', ['-O2', '-Wall', '-o', a, SOURCE]);
  copyFileSync(a, b);
  const sink = await OtlpSink.start();
  const serverA = await startTraffic('nwt-fk-srv-a', 'tcp-server', ['127.0.0.1']);
  const serverB = await startTraffic('nwt-fk-srv-b', 'tcp-server', ['127.0.0.1']);
  const portA = serverA.info.port as number,
    portB = serverB.info.port as number;
  const apiPort = await freePort('127.0.0.1');
  const file = join(dir, 'agent.yaml');
  writeFileSync(
    file,
    `receivers:
  connections:
    seed_existing: false
    interval: 1s
exporters:
  otlp:
    endpoint: http://${sink.grpcEndpoint}
service:
  server:
    enabled: true
    port: ${apiPort}
  pipelines:
    metrics:
      receivers: [connections]
      exporters: [otlp]
  telemetry:
    metrics:
      export_interval: 1s
`,
  );
  const agent = RunningCli.start(['run', '-c', file]);
  try {
    await agent.waitFor(/running/);
    await new Promise((r) => setTimeout(r, 1500));
    const rssBefore = rssBytes(agent.pid);
    let rssPeak = rssBefore;
    const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, rssBytes(agent.pid))), 500);
    const run = promisify(execFile);
    try {
      const [ra, rb] = await Promise.all([run(a, [String(portA), String(PER_PROGRAM)]), run(b, [String(portB), String(PER_PROGRAM)])]);
      assert.equal(ra.stdout.trim(), `done ${PER_PROGRAM} failed 0`);
      assert.equal(rb.stdout.trim(), `done ${PER_PROGRAM} failed 0`);
    } finally {
      clearInterval(sampler);
    }
    const opened = (port: number, exe?: string) =>
      sink.sumOf('netwatch.connection.opened', {
        'server.port': port,
        'netwatch.connection.direction': 'outbound',
        ...(exe ? { 'process.executable.name': exe } : {}),
      });
    await sink.waitFor(() => opened(portA) >= PER_PROGRAM && opened(portB) >= PER_PROGRAM, 60_000);
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal(opened(portA), PER_PROGRAM);
    assert.equal(opened(portB), PER_PROGRAM);
    // Who each port's connections were attributed to, for the messages below.
    const byExe = (port: number) =>
      sink
        .latest('netwatch.connection.opened', { 'server.port': port, 'netwatch.connection.direction': 'outbound' })
        .map((p) => `${String(p.attributes['process.executable.name'])}=${p.value}`)
        .join(' ');
    assert.equal(opened(portA, 'nwstorm-a'), PER_PROGRAM, `connections to A: ${byExe(portA)}`);
    assert.equal(opened(portB, 'nwstorm-b'), PER_PROGRAM, `connections to B: ${byExe(portB)}`);
    const health = (await (await fetch(`http://127.0.0.1:${apiPort}/health`)).json()) as { caches: Record<string, { size: number; capacity: number }> };
    for (const [name, c] of Object.entries(health.caches)) assert.ok(c.size <= c.capacity, `${name} cache: ${c.size} of ${c.capacity}`);
    assert.ok(health.caches.process!.size > 0, 'the process cache was used');
    const grew = rssPeak - rssBefore;
    assert.ok(grew < 96 * 2 ** 20, `RSS grew by ${(grew / 2 ** 20).toFixed(1)} MiB over ${2 * PER_PROGRAM} processes`);
  } finally {
    await agent.stop('SIGTERM');
    await stopChild(serverA);
    await stopChild(serverB);
    await sink.stop();
  }
});
