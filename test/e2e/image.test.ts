// The Dockerfile, built for real: buildah (chroot isolation: no container engine or OCI runtime
// runs here) from a Debian bookworm base that packaging/base-image.sh makes with debootstrap. The
// image then runs the agent with exactly the capabilities the README lists, attaches the probes,
// answers the query API with real curl traffic, and leaves nothing behind on SIGTERM.
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { CAPABILITIES } from '../../src/cli/systemd-unit';
import { heldBpfObjects, PROGRAMS, stillExisting, type HeldObjects } from '../helpers/bpf-objects';
import { freePort } from '../helpers/ports';
import { REPO_ROOT } from '../helpers/paths';

const run = promisify(execFile);
const BASE = 'localhost/netwatch-base:bookworm-node20';
const IMAGE = 'localhost/netwatch:e2e';
// The systemd unit's set, which the README lists for docker run too.
const CAPS = CAPABILITIES;
const N = 3;

let container = '';
let agent: ChildProcess | undefined;
let output = '';

const buildah = (...args: string[]): string => execFileSync('buildah', args, { encoding: 'utf8', maxBuffer: 64 << 20 }).trim();

/** The node process of the agent inside the container (a child of buildah-chroot-exec). */
function agentPid(): number | undefined {
  for (const p of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
      if (
        cmd[0] === 'node' &&
        cmd[1] === '/usr/local/bin/netwatch' &&
        cmd.includes('/etc/netwatch/agent.yaml') &&
        readFileSync(`/proc/${p}/environ`, 'utf8').includes('NWT_IMAGE_TEST=1')
      )
        return Number(p);
    } catch {
      // gone
    }
  }
  return undefined;
}

before(async () => {
  // On a fresh machine: ~2 min for the debootstrap base, ~4 min for the image (apt, npm ci, clang).
  // The base stands in for node:20-bookworm-slim and is made once per machine, so that the image's
  // layers stay cached between runs (a new base would invalidate them all).
  let haveBase = true;
  try {
    buildah('inspect', '--type', 'image', BASE);
  } catch {
    haveBase = false;
  }
  if (!haveBase) execFileSync('sh', ['packaging/base-image.sh', BASE], { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  const caBundle = '/etc/ssl/certs/ca-certificates.crt';
  await run(
    'buildah',
    [
      'bud',
      '--isolation',
      'chroot',
      '--layers',
      '-q',
      '--build-arg',
      `BASE=${BASE}`,
      '--volume',
      `${caBundle}:/run/extra-ca.crt:ro`,
      '--build-arg',
      'EXTRA_CA_CERTS=/run/extra-ca.crt',
      '-t',
      IMAGE,
      '-f',
      'Dockerfile',
      '.',
    ],
    { cwd: REPO_ROOT, maxBuffer: 256 << 20 },
  );
  container = buildah('from', '-q', IMAGE);
});

after(async () => {
  if (agent && agent.exitCode === null) agent.kill('SIGKILL');
  if (container) buildah('rm', container);
});

test('the image runs `netwatch run -c /etc/netwatch/agent.yaml` and stops on SIGTERM', () => {
  const cfg = JSON.parse(buildah('inspect', '--type', 'image', IMAGE)).OCIv1.config;
  assert.deepEqual(cfg.Entrypoint, ['netwatch', 'run', '-c', '/etc/netwatch/agent.yaml']);
  assert.equal(cfg.StopSignal, 'SIGTERM');
  assert.match(buildah('run', '--isolation', 'chroot', container, '--', 'netwatch', 'version'), /^netwatch \d+\.\d+\.\d+\nnode v20\./);
  assert.match(
    buildah('run', '--isolation', 'chroot', container, '--', 'netwatch', 'validate', '-c', '/etc/netwatch/agent.yaml'),
    /\/etc\/netwatch\/agent\.yaml: valid/,
  );
});

test('with only the documented capabilities the agent in the image attaches, sees real connections, and leaves nothing behind', async () => {
  const port = await freePort('127.0.0.1');
  const dir = mkdtempSync(join(tmpdir(), 'nwt-image-'));
  const cfg = join(dir, 'agent.yaml');
  writeFileSync(
    cfg,
    `receivers:\n  connections:\n    seed_existing: false\nexporters:\n  debug:\nservice:\n  server:\n    enabled: true\n    port: ${port}\n  pipelines:\n    metrics:\n      receivers: [connections]\n      exporters: [debug]\n`,
  );
  agent = spawn(
    'buildah',
    [
      'run',
      '--isolation',
      'chroot',
      ...CAPS.flatMap((c) => ['--cap-add', c]),
      '--env',
      'NWT_IMAGE_TEST=1',
      '-v',
      `${cfg}:/etc/netwatch/agent.yaml:ro`,
      container,
      '--',
      'netwatch',
      'run',
      '-c',
      '/etc/netwatch/agent.yaml',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  agent.stdout!.on('data', (d) => (output += d));
  agent.stderr!.on('data', (d) => (output += d));
  const api = `http://127.0.0.1:${port}`;
  const end = Date.now() + 30_000;
  while (
    !(await fetch(`${api}/readyz`).then(
      (r) => r.ok,
      () => false,
    ))
  ) {
    if (Date.now() > end || agent.exitCode !== null) assert.fail(`the agent in the image is not ready:\n${output}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const pid = agentPid();
  assert.ok(pid, 'the agent process of the container');
  const held: HeldObjects = heldBpfObjects(pid);
  assert.deepEqual([held.progIds.length, held.linkIds.length], [PROGRAMS.conn, PROGRAMS.conn], 'the conn probe is loaded and attached from inside the image');

  // The agent's own server is the traffic target: curl from the host, seen by the probes in the container.
  for (let i = 0; i < N; i++) await run('curl', ['-s', '-o', '/dev/null', '--max-time', '5', `${api}/livez`]);
  const count = async () => ((await (await fetch(`${api}/api/v1/connections?process=curl&port=${port}&kind=connect`)).json()) as { count: number }).count;
  const until = Date.now() + 10_000;
  while ((await count()) < N && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
  assert.equal(await count(), N);

  const exited = new Promise<number | null>((r) => agent!.once('exit', (code) => r(code)));
  process.kill(pid, 'SIGTERM');
  assert.equal(await exited, 0, output);
  assert.match(output, /stopping signal=SIGTERM[\s\S]*stopped/);
  assert.deepEqual([...stillExisting('prog', held.progIds), ...stillExisting('link', held.linkIds)], []);
});
