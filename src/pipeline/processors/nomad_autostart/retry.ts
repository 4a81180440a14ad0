// The one retry loop wake and sleep share, and the sorting of Nomad's answers it runs on: each
// attempt ends in an outcome, or in a step the loop takes itself — decide again after a
// check-and-set conflict, wait out an active deployment, retry a failure with capped backoff.
import { forbidden, groupNotFound, jobNotFound, policyViolation, registrationDisabled, validationFailed } from './advice';
import { Backoff } from './backoff';
import { CallError } from './calls';
import { formatMs } from './clock';
import type { FlowContext } from './context';
import type { Outcome } from './outcomes';
import type { CompiledRule } from './rules';
import type { Target } from './target';
import type { ActionRecord } from './telemetry';
import { waitForDeployment } from './waits';

/** `conflict`: another writer changed the job first (check-and-set): read again and decide again. */
export type Step = Outcome | 'retry' | 'deployment' | 'conflict';

/** Conflicts in a row decided again at once; more than this and the next attempt waits a backoff step. */
const IMMEDIATE_REDECISIONS = 3;

export interface RetryHooks {
  /** Before each attempt: a reason to stop without an outcome (a sleep that traffic called off). */
  proceed?: () => 'aborted' | undefined;
  /** After a retryable failure: whether to stop trying. */
  gaveUp: () => boolean;
  onGiveUp: (why: 'deployment' | 'retry') => void;
  /** A check-and-set conflict: what the attempt knew of the job is out of date. */
  onConflict?: () => void;
}

/**
 * One attempt at a time, Nomad's answers sorted by `attempt`; a check-and-set conflict is decided
 * again at once (with backoff after a few in a row), an active deployment waited out, a failure
 * retried with capped backoff until `gaveUp`.
 */
export async function retrying<O extends string>(
  ctx: FlowContext,
  t: Target,
  rule: CompiledRule,
  action: 'wake' | 'sleep',
  rec: ActionRecord,
  once: () => Promise<O | 'deployment'>,
  hooks: RetryHooks,
): Promise<O | Outcome | 'aborted'> {
  const backoff = new Backoff(ctx.cfg.retry.initial_ms, ctx.cfg.retry.max_ms);
  let conflicts = 0;
  for (;;) {
    if (ctx.stopped) return 'cancelled';
    const stop = hooks.proceed?.();
    if (stop) return stop;
    const step = await attempt(ctx, t, rule, action, rec, once);
    switch (step) {
      case 'conflict':
        hooks.onConflict?.();
        if (++conflicts > IMMEDIATE_REDECISIONS) await ctx.delay(backoff.next());
        continue;
      case 'deployment':
        if (await waitForDeployment(ctx, t, rule)) continue;
        if (ctx.stopped) return 'cancelled';
        hooks.onGiveUp('deployment');
        return 'failed';
      case 'retry':
        if (hooks.gaveUp()) {
          hooks.onGiveUp('retry');
          return 'failed';
        }
        await ctx.delay(backoff.next());
        continue;
      default:
        return step;
    }
  }
}

/** One attempt of a flow, with Nomad's refusals sorted as the issue asks. */
async function attempt<O extends string>(
  ctx: FlowContext,
  t: Target,
  rule: CompiledRule,
  action: 'wake' | 'sleep',
  rec: ActionRecord,
  fn: () => Promise<O | 'deployment'>,
): Promise<O | Step> {
  const reports = ctx.reports;
  try {
    const out = await fn();
    if (reports.clear('unreachable')) ctx.log.info('Nomad answers again');
    if (reports.clear('registration_disabled')) ctx.log.info('Nomad accepts scaling again');
    return out;
  } catch (e) {
    if (ctx.stopped) return 'cancelled';
    if (!(e instanceof CallError)) throw e;
    const err = e.error;
    rec.status = err.status;
    rec.errorType = err.status === undefined ? err.kind : undefined;
    const key = t.key;
    switch (err.kind) {
      case 'active_deployment':
        return 'deployment';
      case 'forbidden':
        rule.disabled = true;
        reports.once(`forbidden:${rule.name}`, 'error', forbidden(rule, e.call));
        return 'forbidden';
      case 'not_found':
        reports.once(`not_found:${key}`, 'warn', jobNotFound(rule));
        return 'job_not_found';
      case 'policy_violation':
        reports.once(`policy:${action}:${key}`, 'error', policyViolation(rule, err.body ?? err.message, action));
        return 'policy_violation';
      case 'bad_request':
        reports.once(`bad_request:${action}:${key}`, 'error', `Nomad refused the ${e.call} of ${t.label} for rule ${rule.name}: ${err.message}`);
        return 'bad_request';
      case 'group_not_found':
        reports.once(`group:${key}`, 'warn', groupNotFound(rule, []));
        return 'group_not_found';
      case 'conflict':
        rec.status = undefined;
        // Not a failure: another writer (an agent on another node, an operator) changed the job first.
        return 'conflict';
      case 'validation':
        // Asking again gets the same answer: reported once, not retried.
        reports.once(`validation:${action}:${key}`, 'error', validationFailed(rule, e.call, err.body ?? err.message));
        return 'bad_request';
      case 'registration_disabled':
        reports.once('registration_disabled', 'warn', registrationDisabled(rule, formatMs(ctx.cfg.retry.max_ms)));
        return 'retry';
      case 'server':
      case 'timeout':
      case 'connection':
      case 'tls':
        reports.once(
          'unreachable',
          'warn',
          `Nomad ${err.kind === 'server' ? 'failed' : 'could not be reached'} (${err.message}); retrying with backoff (at most every ${formatMs(ctx.cfg.retry.max_ms)})`,
          { rule: rule.name },
        );
        return 'retry';
    }
  }
}
