// The small parts of the cluster's sleep on their own: names escaped into Nomad variable paths,
// whose wakes the history counts as the cluster's, and the sleeper's lock renewing itself.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NomadError } from '../../../src/errors';
import { variablesPaths, variablesPolicy } from '../../../src/pipeline/processors/nomad_autostart/advice';
import { CallError } from '../../../src/pipeline/processors/nomad_autostart/calls';
import type { TaskGroupScaleStatus } from '../../../src/pipeline/processors/nomad_autostart/client';
import { SleeperLock, type Cluster } from '../../../src/pipeline/processors/nomad_autostart/cluster';
import type { FlowContext } from '../../../src/pipeline/processors/nomad_autostart/context';
import { wokenBy } from '../../../src/pipeline/processors/nomad_autostart/history';
import { activityPath, itemKey, lockPath, segment } from '../../../src/pipeline/processors/nomad_autostart/variables';
import { sleep, until } from '../../helpers/autostart';

const VALID_PATH = /^[a-zA-Z0-9\-_~/]{1,128}$/; // nomad/structs/variables.go validVariablePath

test('names become path segments Nomad takes: safe characters as they are, any other byte as ~XX', () => {
  assert.equal(segment('web-1_a'), 'web-1_a');
  assert.equal(segment('ip-10-0-0-5.eu-west-1.compute.internal'), 'ip-10-0-0-5~2Eeu-west-1~2Ecompute~2Einternal');
  assert.equal(segment('batch/dispatch-1'), 'batch~2Fdispatch-1');
  assert.equal(segment('a~b'), 'a~7Eb', 'the escape character escapes itself');
  assert.equal(segment('café'), 'caf~C3~A9');
  assert.equal(segment(''), '~');
  const t = { namespace: 'prod', job: 'batch/dispatch-1', group: 'web.1' };
  assert.equal(itemKey(t), 'prod/batch~2Fdispatch-1/web~2E1');
  assert.equal(lockPath('nomad/jobs/netwatch/sleep', t), 'nomad/jobs/netwatch/sleep/prod/batch~2Fdispatch-1/web~2E1');
  assert.equal(activityPath('nomad/jobs/netwatch/activity', 'node.a'), 'nomad/jobs/netwatch/activity/node~2Ea');
  assert.notEqual(segment('a.b'), segment('a_b'));
});

test('a path that would pass 128 characters ends in a hash of its names instead: valid, stable, and distinct', () => {
  const long = { namespace: 'default', job: 'j'.repeat(100), group: 'g' };
  const p = lockPath('nomad/jobs/netwatch/sleep', long);
  assert.match(p, /^nomad\/jobs\/netwatch\/sleep\/~h[0-9a-f]{40}$/);
  assert.match(p, VALID_PATH);
  assert.equal(lockPath('nomad/jobs/netwatch/sleep', long), p);
  assert.notEqual(lockPath('nomad/jobs/netwatch/sleep', { ...long, group: 'h' }), p);
  for (const name of ['x'.repeat(200), 'ü'.repeat(60)]) assert.match(activityPath('nomad/jobs/netwatch/activity', name), VALID_PATH);
});

test('the variables policy covers both paths by their common parent, or each with what it needs', () => {
  assert.deepEqual(variablesPaths('nomad/jobs/netwatch/activity', 'nomad/jobs/netwatch/sleep'), [
    { path: 'nomad/jobs/netwatch/*', capabilities: ['read', 'write'] },
  ]);
  assert.deepEqual(variablesPaths('apps/activity', 'locks/sleep'), [
    { path: 'apps/activity/*', capabilities: ['read', 'write'] },
    { path: 'locks/sleep/*', capabilities: ['write'] },
  ]);
  assert.equal(
    variablesPolicy('ops', 'apps/activity', 'locks/sleep'),
    'namespace "ops" { variables { path "apps/activity/*" { capabilities = ["read", "write"] } path "locks/sleep/*" { capabilities = ["write"] } } }',
  );
  assert.equal(
    variablesPolicy('ops', 'nomad/jobs/netwatch/activity', 'nomad/jobs/netwatch/sleep'),
    'namespace "ops" { variables { path "nomad/jobs/netwatch/*" { capabilities = ["read", "write"] } } }',
  );
});

const event = (count: number | null, meta: Record<string, unknown> | null) => ({
  Time: 0,
  Count: count,
  PreviousCount: 0,
  Message: '',
  Error: false,
  Meta: meta,
  EvalID: null,
  CreateIndex: 0,
});
const group = (desired: number, events: ReturnType<typeof event>[]): TaskGroupScaleStatus => ({
  Desired: desired,
  Placed: desired,
  Running: desired,
  Healthy: desired,
  Unhealthy: 0,
  Events: events,
});
const byAgent = (host: string, rule = 'db', extra: Record<string, unknown> = {}) => ({ 'netwatch.agent.host': host, 'netwatch.rule': rule, ...extra });

test("the cluster counts any netwatch agent's wake as its own; an agent alone only its host's", () => {
  const woke = group(1, [event(1, byAgent('agent-b'))]);
  assert.equal(wokenBy(woke, 'cluster'), 'db');
  assert.equal(wokenBy(woke, { host: 'agent-a' }), undefined);
  assert.equal(wokenBy(woke, { host: 'agent-b' }), 'db');
  // Someone else's count change after it: nobody's to put to sleep.
  assert.equal(wokenBy(group(3, [event(3, null), event(1, byAgent('agent-b'))]), 'cluster'), undefined);
  // Another agent's note without a count (a start records netwatch.count) is a wake too.
  assert.equal(wokenBy(group(2, [event(null, byAgent('agent-c', 'db', { 'netwatch.count': 2 }))]), 'cluster'), 'db');
  // A count that is not the group's now: the wake is not what holds it up.
  assert.equal(wokenBy(group(2, [event(1, byAgent('agent-b'))]), 'cluster'), undefined);
  // A person's note without a count is skipped.
  assert.equal(wokenBy(group(1, [event(null, { note: 'x' }), event(1, byAgent('agent-b'))]), 'cluster'), 'db');
});

/** A FlowContext with only what SleeperLock uses: a 40 ms TTL (renewed every 20 ms) and a client recording renewals. */
function lockRig(renew: (n: number) => Promise<unknown>) {
  const calls = { renew: 0, release: 0 };
  const ctx = {
    stopped: false,
    cfg: { cluster: { lock_ttl_ms: 40 } },
    call: <T>(_what: string, fn: () => Promise<T>) =>
      fn().catch((e: unknown) => {
        throw e instanceof NomadError ? new CallError('lock', e) : e;
      }),
    client: {
      renewLock: () => renew(++calls.renew),
      releaseLock: () => (calls.release++, Promise.resolve({})),
    },
    log: { debug: () => undefined },
  } as unknown as FlowContext;
  return { ctx, calls, cluster: { namespace: 'default' } as Cluster };
}

test('the sleeper renews its lock every half TTL while its flow runs, and stops when it releases it', async () => {
  const at: number[] = [];
  const { ctx, calls, cluster } = lockRig(() => (at.push(performance.now()), Promise.resolve({})));
  const started = performance.now();
  const lock = new SleeperLock(ctx, cluster, 'nomad/jobs/netwatch/sleep/default/db/db', 'id-1', 1e18);
  await until(() => calls.renew >= 4, 'four renewals');
  const gaps = [at[0] - started, ...at.slice(1).map((t, i) => t - at[i])];
  assert.ok(
    gaps.every((g) => g >= 18),
    `every half TTL (20 ms), not sooner: ${gaps.map((g) => g.toFixed(1)).join(', ')}`,
  );
  assert.equal(lock.lost, false);
  await lock.release();
  const after = calls.renew;
  await sleep(60);
  assert.deepEqual([calls.renew, calls.release], [after, 1]);
  await lock.release();
  assert.equal(calls.release, 1, 'released once');
});

test('a renewal Nomad refuses (409: another holder, or the TTL ran out) loses the lock: no more renewals, nothing to release', async () => {
  const conflict = new NomadError('409', 409, 'attempting to modify locked variable', 'conflict');
  const failing = new NomadError('timeout', undefined, undefined, 'timeout');
  let lostAfterTimeout: boolean | undefined;
  const { ctx, calls, cluster } = lockRig((n) => {
    if (n === 1) return Promise.reject(failing);
    if (n === 2) {
      lostAfterTimeout = lock.lost;
      return Promise.reject(conflict);
    }
    return Promise.resolve({});
  });
  const lock = new SleeperLock(ctx, cluster, 'nomad/jobs/netwatch/sleep/default/db/db', 'id-1', 1e18);
  await until(() => lock.lost, 'the lock lost');
  assert.equal(lostAfterTimeout, false, 'a timeout leaves the lock to its TTL; the next renewal tries again');
  const renewals = calls.renew;
  await sleep(60);
  assert.equal(calls.renew, renewals, 'no renewal after the loss');
  await lock.release();
  assert.equal(calls.release, 0);
});

test("the lock tells the leader's clock: its grant plus the time passed here", async () => {
  const { ctx, cluster } = lockRig(() => Promise.resolve({}));
  const lock = new SleeperLock(ctx, cluster, 'p', 'id', 5e18);
  await sleep(50);
  const passed = (lock.serverNowNs() - 5e18) / 1e6;
  assert.ok(passed >= 45 && passed < 5000, `${passed} ms`);
  await lock.release();
});
