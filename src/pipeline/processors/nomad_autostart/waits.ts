// The waits of a flow, on blocking queries: for a woken group's allocations to be running or
// healthy, and for an active deployment (which blocks count changes) to end.
import { Backoff } from './backoff';
import { nomadErrorOf, progressDeadline } from './calls';
import { ACTIVE_DEPLOYMENT_STATUSES } from './client';
import { formatMs, hrSeconds, now } from './clock';
import type { FlowContext } from './context';
import type { CompiledRule } from './rules';
import type { Target } from './target';
import type { ActionRecord } from './telemetry';
import type { Trigger } from './trigger';

/** Longest single blocking query while waiting (Nomad caps them at 5 minutes). */
const MAX_BLOCK_MS = 60_000;

/** Waits (blocking queries on the scale status) until `count` allocations are running or healthy, or the rule's wait_timeout. */
export async function waitReady(ctx: FlowContext, t: Target, trig: Trigger, rec: ActionRecord, index: number): Promise<void> {
  const cfg = trig.rule.cfg;
  const want = rec.count ?? cfg.count;
  const deadline = now() + cfg.wait_timeout_ms;
  const backoff = new Backoff(ctx.cfg.retry.initial_ms, ctx.cfg.retry.max_ms);
  let idx = Math.max(1, index);
  rec.ready = false;
  while (!ctx.stopped) {
    const left = deadline - now();
    if (left <= 0) break;
    try {
      const s = await ctx.client.jobScaleStatus(t.job, t.namespace, { index: idx, waitMs: Math.min(left, MAX_BLOCK_MS) });
      const g = s.value.TaskGroups[t.group];
      const have = g === undefined ? 0 : cfg.wait_for === 'healthy' ? g.Healthy : g.Running;
      if (have >= want) {
        rec.ready = true;
        rec.timeToReadyS = hrSeconds(trig.atNs, process.hrtime.bigint());
        ctx.telemetry.timeToReady(trig.rule, rec.timeToReadyS);
        return;
      }
      // An answer without a newer index came back early: pause, so a misbehaving server is not polled hot.
      if (s.index <= idx) await ctx.delay(backoff.next());
      else backoff.reset();
      idx = Math.max(idx, s.index);
    } catch (e) {
      if (ctx.stopped || !nomadErrorOf(e)?.retryable) break;
      await ctx.delay(backoff.next());
    }
  }
  if (!ctx.stopped) {
    ctx.log.warn(`${t.label} was scaled but is not ${cfg.wait_for} with ${want} allocation${want === 1 ? '' : 's'} after ${formatMs(cfg.wait_timeout_ms)}`, {
      rule: trig.rule.name,
    });
  }
}

/**
 * Blocking queries on the job's latest deployment until it is no longer active; false when
 * giving up. Nomad ends a deployment itself once its progress deadline passes without an
 * allocation turning healthy (RequireProgressBy), so the wait lasts at least that long (plus a
 * grace for the deployment watcher), and at least `give_up_after`.
 */
export async function waitForDeployment(ctx: FlowContext, t: Target, rule: CompiledRule): Promise<boolean> {
  ctx.reports.once(
    `deployment:${t.key}`,
    'info',
    `${t.label} has an active deployment, which blocks count changes; waiting for it to end, then checking again`,
    {
      rule: rule.name,
    },
  );
  let deadline = now() + ctx.cfg.retry.give_up_after_ms;
  const backoff = new Backoff(ctx.cfg.retry.initial_ms, ctx.cfg.retry.max_ms);
  let index = 1;
  while (!ctx.stopped && now() < deadline) {
    try {
      const d = await ctx.call('deployment read', () =>
        ctx.client.latestDeployment(t.job, t.namespace, { index, waitMs: Math.min(deadline - now(), MAX_BLOCK_MS) }),
      );
      if (d.value === null || !ACTIVE_DEPLOYMENT_STATUSES.has(d.value.Status)) {
        // Warm state may not have heard yet: the next decision must not wait for it again.
        ctx.warm.deployment(t.namespace, t.job, d.value);
        ctx.reports.clear(`deployment:${t.key}`);
        return true;
      }
      deadline = Math.max(deadline, progressDeadline(d.value));
      if (d.index <= index) await ctx.delay(backoff.next());
      index = Math.max(index, d.index);
    } catch (e) {
      // Anything else shows again (and is classified) when the flow checks the status.
      if (ctx.stopped || !nomadErrorOf(e)?.retryable) return !ctx.stopped;
      await ctx.delay(backoff.next());
    }
  }
  return false;
}
