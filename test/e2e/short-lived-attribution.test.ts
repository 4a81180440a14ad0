// A process that connects and exits at once, in a cgroup made 10 ms before it connects and removed
// 10 ms after it exited — a container or a Nomad task placed and gone before the agent reads its
// record. The real CLI with the shipped batching (wakeup_bytes: auto) names every one: the
// executable from the kernel, the container id and runtime of Docker, containerd (CRI), cri-o and
// podman scopes, the Nomad allocation and task of a Nomad scope. Twenty of each, every one right.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { cgroup2Root } from '../../src/kernel/mounts';
import { RunningCli } from '../helpers/cli';
import { OtlpSink } from '../helpers/otlp-sink';
import { startTraffic, stopChild } from '../helpers/processes';

const EACH = 20;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Shape {
  name: string;
  /** The cgroup's path below the test's base, and what the agent must report for it. */
  make(): { rel: string; expect: Record<string, string> };
}

const hex64 = () => randomBytes(32).toString('hex');
const SHAPES: Shape[] = [
  ...(
    [
      ['docker', 'docker'],
      ['cri-containerd', 'containerd'],
      ['crio', 'cri-o'],
      ['libpod', 'podman'],
    ] as const
  ).map(([prefix, runtime]) => ({
    name: runtime,
    make: () => {
      const id = hex64();
      return { rel: join('system.slice', `${prefix}-${id}.scope`), expect: { 'container.id': id, 'container.runtime.name': runtime } };
    },
  })),
  {
    name: 'nomad',
    make: () => {
      const alloc = randomUUID();
      return {
        rel: join('nomad.slice', 'share.slice', `${alloc}.web.scope`),
        expect: { 'netwatch.nomad.alloc_id': alloc, 'netwatch.nomad.task': 'web', 'container.runtime.name': 'nomad' },
      };
    },
  },
];

/** Make the cgroup, wait 10 ms, run one connecting process in it to its end, wait 10 ms, remove the cgroup. */
async function connectFromFreshCgroup(dir: string, port: number): Promise<void> {
  mkdirSync(dir);
  try {
    await sleep(10);
    // sh moves itself into the cgroup and becomes bash, which connects and exits at once.
    const child = spawn('sh', ['-c', `echo $$ > '${dir}/cgroup.procs' && exec bash -c 'exec 3<>/dev/tcp/127.0.0.1/${port}'`], { stdio: 'ignore' });
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    assert.equal(code, 0, `the client in ${dir} connected`);
    await sleep(10);
  } finally {
    rmdirSync(dir);
  }
}

test(`a process that connects and exits in a cgroup made 10 ms before and removed 10 ms after: ${EACH} of each shape, every one attributed`, async () => {
  const base = join(cgroup2Root(), `netwatch-e2e-sla-${process.pid}`);
  const parents = [base, join(base, 'system.slice'), join(base, 'nomad.slice'), join(base, 'nomad.slice', 'share.slice')];
  for (const d of parents) mkdirSync(d, { recursive: true });
  const sink = await OtlpSink.start();
  const server = await startTraffic('nwt-sla-srv', 'tcp-server', ['127.0.0.1']);
  const port = server.info.port as number;
  const file = join(mkdtempSync(join(tmpdir(), 'nw-sla-')), 'agent.yaml');
  // The shipped connection settings (batched wakeups included); only this port, every record.
  writeFileSync(
    file,
    `receivers:
  connections:
    seed_existing: false
    interval: 500ms
    logs:
      max_per_second: 0
processors:
  filter/port:
    include:
      - ports: [${port}]
exporters:
  otlp:
    endpoint: http://${sink.grpcEndpoint}
service:
  pipelines:
    metrics:
      receivers: [connections]
      processors: [filter/port]
      exporters: [otlp]
    logs:
      receivers: [connections]
      processors: [filter/port]
      exporters: [otlp]
  telemetry:
    metrics:
      export_interval: 500ms
`,
  );
  const agent = RunningCli.start(['run', '-c', file]);
  const made: { shape: string; expect: Record<string, string> }[] = [];
  try {
    await agent.waitFor(/running/);
    for (let i = 0; i < EACH; i++) {
      for (const shape of SHAPES) {
        const { rel, expect } = shape.make();
        await connectFromFreshCgroup(join(base, rel), port);
        made.push({ shape: shape.name, expect });
      }
    }
    const opens = () => sink.logs({ eventName: 'netwatch.connection.open' }).filter((r) => r.attributes['server.port'] === port);
    await sink.waitFor(() => opens().length === made.length, 20_000);
    const wrong: string[] = [];
    for (const { shape, expect } of made) {
      const [key, value] = Object.entries(expect)[0]!;
      const mine = opens().filter((r) => r.attributes[key] === value);
      if (mine.length !== 1) {
        wrong.push(`${shape} ${value}: ${mine.length} open records`);
        continue;
      }
      const attrs = mine[0]!.attributes;
      for (const [k, v] of Object.entries({ ...expect, 'process.executable.name': 'bash' })) {
        if (attrs[k] !== v) wrong.push(`${shape} ${value}: ${k} = ${String(attrs[k])}, not ${v}`);
      }
    }
    assert.deepEqual(wrong, [], `of ${made.length} connections, misattributed:\n${wrong.join('\n')}`);
    // The metrics name them too: one outbound connection per container, all by bash.
    await sink.waitFor(
      () => sink.sumOf('netwatch.connection.opened', { 'server.port': port, 'netwatch.connection.direction': 'outbound' }) === made.length,
      10_000,
    );
    assert.equal(
      sink.sumOf('netwatch.connection.opened', { 'server.port': port, 'netwatch.connection.direction': 'outbound', 'process.executable.name': 'bash' }),
      made.length,
    );
    for (const { expect } of made.filter((m) => m.shape !== 'nomad')) {
      assert.equal(sink.sumOf('netwatch.connection.opened', { 'server.port': port, 'container.id': expect['container.id'] }), 1, expect['container.id']);
    }
    assert.match(agent.output, /running/);
  } finally {
    await agent.stop('SIGTERM');
    await stopChild(server);
    await sink.stop();
    for (const d of [...parents].reverse()) {
      try {
        rmdirSync(d);
      } catch {
        /* already gone */
      }
    }
  }
});
