// Who set a group's count, read from Nomad's own scaling history: the Meta this agent writes into
// every scaling event, and the rule of this agent (if any) behind the group's current count — so
// a restarted or reloaded agent still knows what it woke. When sleep is decided for the cluster
// (cluster.ts), a group any netwatch agent woke with a rule is everyone's to put back to sleep.
import type { TaskGroupScaleStatus } from './client';
import { now } from './clock';
import type { CompiledRule } from './rules';
import type { Target } from './target';

/** Keys written into the Meta of the scaling events the agent records. */
export const META = {
  TRIGGER: 'netwatch.trigger',
  REASON: 'netwatch.reason',
  RULE: 'netwatch.rule',
  AGENT_HOST: 'netwatch.agent.host',
  /** Only on event-only records (a started job): the count the start set. */
  COUNT: 'netwatch.count',
} as const;

/** Whose wakes count as this agent's: its own (the agent on `host`), or, when the cluster decides sleep, any netwatch agent's. */
export type Wakers = { readonly host: string } | 'cluster';

/**
 * The rule of the agent on `by.host` (or of any netwatch agent, for `cluster`) that set the
 * group's current count, from the group's scaling events (newest first); undefined when someone
 * else changed it since.
 */
export function wokenBy(g: TaskGroupScaleStatus, by: Wakers): string | undefined {
  for (const e of g.Events) {
    const meta = e.Meta ?? {};
    const host = meta[META.AGENT_HOST];
    const mine = by === 'cluster' ? typeof host === 'string' && host !== '' : host === by.host;
    if (e.Count === null && !mine) continue; // someone else's note, not a count change
    if (!mine || typeof meta[META.RULE] !== 'string') return undefined;
    const count = e.Count ?? Number(meta[META.COUNT]);
    return count === g.Desired ? (meta[META.RULE] as string) : undefined;
  }
  return undefined;
}

/** This agent set the group's count for `rule`: with idle_after, its idle clock decides a sleep. */
export function markWoken(t: Target, rule: CompiledRule, count: number): void {
  if (rule.cfg.idle_after_ms <= 0) return;
  t.wokeUp({ rule, count });
  t.lastActivityMs = now();
}

/** A group found up, its history not at hand: tracked for sleep only when a rule puts any group to sleep. */
export function adoptFoundUp(t: Target, desired: number): void {
  if (t.woken || desired <= 0) return;
  const rule = t.rules.find((r) => r.cfg.idle_after_ms > 0 && r.cfg.idle_scale_down === 'any');
  if (!rule) return;
  t.wokeUp({ rule, count: desired });
  t.lastActivityMs = Math.max(t.lastActivityMs, now());
}

/** A group found up: tracked for sleep when this agent (or, for `cluster`, any netwatch agent) woke it, or when a rule puts any group to sleep. */
export function adopt(t: Target, g: TaskGroupScaleStatus, wakers: Wakers): void {
  if (t.woken || g.Desired <= 0) return;
  const by = wokenBy(g, wakers);
  const rule = t.rules.find((r) => r.cfg.idle_after_ms > 0 && r.name === by) ?? t.rules.find((r) => r.cfg.idle_after_ms > 0 && r.cfg.idle_scale_down === 'any');
  if (!rule) return;
  t.wokeUp({ rule, count: g.Desired });
  t.lastActivityMs = Math.max(t.lastActivityMs, now());
}
