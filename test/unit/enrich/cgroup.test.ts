// Real cgroups under the cgroup2 mount, a real process moved into each, attributed by cgroup id.
import assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Enricher } from '../../../src/enrich/enricher';
import { enrichConnEvent } from '../../../src/receivers/connections/pipeline-event';
import { nowBootNs } from '../../../src/enrich/clock';
import { findMount } from '../../../src/kernel/mounts';
import type { ConnEvent } from '../../../src/receivers/connections/event';

const ROOT = findMount('cgroup2');
const skip = ROOT === undefined ? 'no cgroup2 mount' : process.getuid?.() !== 0 ? 'needs root' : false;

const BASE = `/netwatch-test-${process.pid}`;
const DOCKER_ID = randomBytes(32).toString('hex');
const DOCKER = `${BASE}/docker-${DOCKER_ID}.scope`;
const ALLOC = randomUUID();
const NOMAD = `${BASE}/nomad.slice/share.slice/${ALLOC}.web.scope`;
const SECRET = `token-${randomUUID()}`;

const made: string[] = []; // cgroup dirs we created, parents first
const children: ChildProcess[] = [];
const abs = (rel: string): string => ROOT + rel;

/** mkdir every missing level of a cgroup path, remembering each for removal. */
function makeCgroup(rel: string): void {
  let at = '';
  for (const part of rel.split('/').filter(Boolean)) {
    at += `/${part}`;
    if (made.includes(at)) continue;
    mkdirSync(abs(at));
    made.push(at);
  }
}

/** The cgroup v2 path the kernel reports for a process (the "0::" line of /proc/<pid>/cgroup). */
function kernelCgroupOf(pid: number): string {
  return readFileSync(`/proc/${pid}/cgroup`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('0::'))!
    .slice(3);
}

/** A `sleep` moved into `rel`, with `env` as its whole environment. */
function sleeperIn(rel: string, env: NodeJS.ProcessEnv = { PATH: process.env.PATH }): number {
  const child = spawn('sleep', ['300'], { stdio: 'ignore', env });
  children.push(child);
  writeFileSync(join(abs(rel), 'cgroup.procs'), String(child.pid));
  return child.pid!;
}

function event(pid: number, cgroupId: number, bootNs = nowBootNs()): ConnEvent {
  return {
    kind: 'connect',
    bootNs,
    sock: 1n,
    pid,
    tid: pid,
    exe: 'sleep',
    cgroupId,
    netns: 0,
    transport: 'tcp',
    networkType: 'ipv4',
    direction: 'outbound',
    localAddress: '127.0.0.1',
    localPort: 0,
    remoteAddress: '127.0.0.1',
    remotePort: 9,
    oldState: 'unknown',
    newState: 'unknown',
    bytesSent: 0,
    bytesReceived: 0,
    srttUs: 0,
    retransmits: 0,
    durationNs: 0,
    error: 0,
    counts: undefined,
  };
}

let enricher: Enricher;

before(() => {
  if (skip) return;
  makeCgroup(DOCKER);
  makeCgroup(NOMAD);
  enricher = new Enricher({ cgroupWalkIntervalMs: 1000 });
});

after(async () => {
  // Processes out first (back to our own cgroup, then killed and reaped), or rmdir fails with EBUSY.
  const home = ROOT === undefined ? '' : abs(kernelCgroupOf(process.pid));
  for (const c of children) {
    try {
      writeFileSync(join(home, 'cgroup.procs'), String(c.pid));
    } catch {
      /* already exited */
    }
    if (c.exitCode === null && c.signalCode === null) {
      const exited = new Promise((resolve) => c.once('exit', resolve));
      c.kill('SIGKILL');
      await exited;
    }
  }
  for (const rel of [...made].reverse()) {
    try {
      rmdirSync(abs(rel));
    } catch (e) {
      console.error(`could not remove cgroup ${rel}: ${(e as Error).message}`);
    }
  }
  enricher?.close();
});

test('a process in a Docker-shaped scope is attributed to that container', { skip }, () => {
  const pid = sleeperIn(DOCKER);
  const cgroupId = statSync(abs(DOCKER)).ino;
  const ev = enrichConnEvent(enricher, event(pid, cgroupId));
  assert.equal(kernelCgroupOf(pid), DOCKER, 'the kernel sees the process in the new cgroup');
  assert.deepEqual({ ...ev.container }, { cgroupPath: DOCKER, runtime: 'docker', id: DOCKER_ID, unit: `docker-${DOCKER_ID}.scope` });
  assert.equal(ev.nomad, undefined);
  assert.equal(ev.process?.executableName, 'sleep');
  assert.equal(ev.process?.commandLine, 'sleep 300');
});

test('a process in a Nomad-shaped scope is attributed to its allocation, task, job, group and namespace', { skip }, () => {
  const pid = sleeperIn(NOMAD, {
    PATH: process.env.PATH,
    NOMAD_JOB_NAME: 'shop',
    NOMAD_GROUP_NAME: 'frontend',
    NOMAD_NAMESPACE: 'prod',
    NOMAD_ALLOC_ID: ALLOC,
    NOMAD_TASK_NAME: 'web',
    NOMAD_TOKEN: SECRET,
  });
  const cgroupId = statSync(abs(NOMAD)).ino;
  const ev = enrichConnEvent(enricher, event(pid, cgroupId));
  assert.equal(kernelCgroupOf(pid), NOMAD);
  assert.deepEqual({ ...ev.container }, { cgroupPath: NOMAD, runtime: 'nomad', id: `${ALLOC}/web` });
  assert.deepEqual({ ...ev.nomad }, { allocId: ALLOC, task: 'web', job: 'shop', group: 'frontend', namespace: 'prod' });
  assert.ok(!JSON.stringify(ev, (_k, v) => (typeof v === 'bigint' ? String(v) : v)).includes(SECRET), 'the token is not in the event');
});

test('a cgroup that is no container is attributed by its path alone', { skip }, () => {
  const ev = enrichConnEvent(enricher, event(0, statSync(abs(BASE)).ino));
  assert.deepEqual({ ...ev.container }, { cgroupPath: BASE });
});

test('the root cgroup resolves to "/"', { skip }, () => {
  assert.equal(enrichConnEvent(enricher, event(0, statSync(ROOT!).ino)).container?.cgroupPath, '/');
});

test('a cgroup created after the last walk is found by the next walk, at most one walk per interval', { skip }, () => {
  const e = new Enricher({ cgroupWalkIntervalMs: 1000 });
  try {
    const t0 = nowBootNs();
    enrichConnEvent(e, event(0, statSync(abs(BASE)).ino, t0));
    const walks = e.stats().cgroup.walks;
    const late = `${BASE}/late.service`;
    makeCgroup(late);
    const id = statSync(abs(late)).ino;
    assert.deepEqual({ ...enrichConnEvent(e, event(0, id, t0 + 500e6)).container }, { cgroupPath: '', runtime: 'unknown' });
    assert.equal(e.stats().cgroup.walks, walks, 'no walk within the interval');
    assert.deepEqual({ ...enrichConnEvent(e, event(0, id, t0 + 1500e6)).container }, { cgroupPath: late, runtime: 'systemd', unit: 'late.service' });
    assert.equal(e.stats().cgroup.walks, walks + 1);
  } finally {
    e.close();
  }
});

test('an id that names no cgroup is unknown, not an error', { skip }, () => {
  const ev = enrichConnEvent(enricher, event(0, 0x7fff_ffff_ffff));
  assert.deepEqual({ ...ev.container }, { cgroupPath: '', runtime: 'unknown' });
});
