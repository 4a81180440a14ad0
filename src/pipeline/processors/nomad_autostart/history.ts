// Who set a group's count, read from Nomad's own scaling history: the Meta this agent writes into
// every scaling event, and the rule of this agent (if any) behind the group's current count — so
// a restarted or reloaded agent still knows what it woke.
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

/**
 * The rule of the agent on `agentHost` that set the group's current count, from the group's
 * scaling events (newest first); undefined when someone else changed it since.
 */
export function wokenBy(g: TaskGroupScaleStatus, agentHost: string): string | undefined {
  for (const e of g.Events) {
    const meta = e.Meta ?? {};
    const mine = meta[META.AGENT_HOST] === agentHost;
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

/** A group found up: tracked for sleep when this agent woke it, or when a rule puts any group to sleep. */
export function adopt(t: Target, g: TaskGroupScaleStatus, agentHost: string): void {
  if (t.woken || g.Desired <= 0) return;
  const by = wokenBy(g, agentHost);
  const rule = t.rules.find((r) => r.cfg.idle_after_ms > 0 && r.name === by) ?? t.rules.find((r) => r.cfg.idle_after_ms > 0 && r.cfg.idle_scale_down === 'any');
  if (!rule) return;
  t.wokeUp({ rule, count: g.Desired });
  t.lastActivityMs = Math.max(t.lastActivityMs, now());
}
