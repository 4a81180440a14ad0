import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { NomadTaskRef } from '../../../src/enrich/cgroup';
import { NomadCache, readNomadEnv } from '../../../src/enrich/nomad';

const ALLOC = '8f2c4a1e-5b6d-4c3e-9a7f-0e1d2c3b4a59';
const SECRET = 's3cr3t-nomad-token-must-never-be-kept';
const REF: NomadTaskRef = { allocId: ALLOC, task: 'web', key: `${ALLOC}.web` };

// A stand-in procfs: <root>/<pid>/environ holds NUL-separated NAME=value pairs.
const fakeProc = mkdtempSync(join(tmpdir(), 'netwatch-proc-'));
after(() => rmSync(fakeProc, { recursive: true, force: true }));

function fakeEnviron(pid: number, env: Record<string, string>): void {
  mkdirSync(join(fakeProc, String(pid)), { recursive: true });
  writeFileSync(
    join(fakeProc, String(pid), 'environ'),
    Object.entries(env)
      .map(([k, v]) => `${k}=${v}\0`)
      .join(''),
  );
}

const TASK_ENV = {
  PATH: '/usr/bin',
  NOMAD_TOKEN: SECRET,
  NOMAD_JOB_NAME: 'shop',
  NOMAD_JOB_ID: 'shop/dispatch-1',
  NOMAD_GROUP_NAME: 'frontend',
  NOMAD_NAMESPACE: 'prod',
  NOMAD_ALLOC_ID: ALLOC,
  NOMAD_TASK_NAME: 'web',
  VAULT_TOKEN: SECRET,
  NOMAD_JOB_NAME_SUFFIX_LOOKALIKE: 'nope',
};

test('only the six Nomad identity variables are read from a task environment', () => {
  fakeEnviron(10, TASK_ENV);
  assert.deepEqual(readNomadEnv(10, fakeProc), {
    jobName: 'shop',
    jobId: 'shop/dispatch-1',
    group: 'frontend',
    namespace: 'prod',
    allocId: ALLOC,
    task: 'web',
  });
});

test('an unreadable environment reads as nothing, without throwing', () => {
  assert.equal(readNomadEnv(999_999, fakeProc), undefined);
});

test('a task is described by its job, group and namespace, and no secret is kept', () => {
  fakeEnviron(11, TASK_ENV);
  const cache = new NomadCache({ procRoot: fakeProc });
  const info = cache.get(REF, 11, 0);
  assert.deepEqual({ ...info }, { allocId: ALLOC, task: 'web', job: 'shop', group: 'frontend', namespace: 'prod' });
  assert.ok(!JSON.stringify(info).includes(SECRET));
  assert.ok(!JSON.stringify(cache).includes(SECRET));
});

test('the job falls back to NOMAD_JOB_ID when NOMAD_JOB_NAME is absent', () => {
  const { NOMAD_JOB_NAME: _drop, ...env } = TASK_ENV;
  fakeEnviron(12, env);
  assert.equal(new NomadCache({ procRoot: fakeProc }).get(REF, 12, 0).job, 'shop/dispatch-1');
});

test('other processes of the same task reuse the first reading without touching /proc', () => {
  fakeEnviron(13, TASK_ENV);
  const cache = new NomadCache({ procRoot: fakeProc });
  const first = cache.get(REF, 13, 0);
  const second = cache.get(REF, 424242, 1);
  assert.equal(second, first);
  assert.equal(cache.stats().environReads, 1);
});

test('an environment that names another allocation is not trusted', () => {
  fakeEnviron(14, { ...TASK_ENV, NOMAD_ALLOC_ID: '00000000-0000-0000-0000-000000000000' });
  const info = new NomadCache({ procRoot: fakeProc }).get(REF, 14, 0);
  assert.deepEqual({ ...info }, { allocId: ALLOC, task: 'web' });
});

test('a task whose environment is not readable yet is tried again, but at most once per retry interval', () => {
  const cache = new NomadCache({ procRoot: fakeProc, retryMs: 1000 });
  assert.deepEqual({ ...cache.get(REF, 15, 0) }, { allocId: ALLOC, task: 'web' });
  fakeEnviron(15, TASK_ENV);
  assert.equal(cache.get(REF, 15, 500).job, undefined);
  assert.equal(cache.stats().environReads, 1);
  assert.equal(cache.get(REF, 15, 1000).job, 'shop');
  assert.equal(cache.stats().environReads, 2);
});

test('an event without a pid still names the allocation and task', () => {
  const info = new NomadCache({ procRoot: fakeProc }).get(REF, 0, 0);
  assert.deepEqual({ ...info }, { allocId: ALLOC, task: 'web' });
});

test("an event whose process has exited reads the task's environment from another process of its cgroup", () => {
  fakeEnviron(17, TASK_ENV);
  const cache = new NomadCache({ procRoot: fakeProc });
  let asked = 0;
  const info = cache.get(REF, 16, 0, () => (asked++, 17)); // 16 has no environ: it exited
  assert.equal(asked, 1);
  assert.deepEqual({ ...info }, { allocId: ALLOC, task: 'web', job: 'shop', group: 'frontend', namespace: 'prod' });
  assert.equal(cache.stats().environReads, 2, "the event's own pid first, then the other process");
});
