// One Nomad task group that rules wake: its single-flight, cooldown and sleep state.
import type { CompiledRule } from './rules';
import type { Trigger } from './trigger';

export interface Woken {
  /** The rule whose idle_after puts it back to sleep. */
  readonly rule: CompiledRule;
  /** The count the agent set (or found, for idle_scale_down: any). */
  readonly count: number;
}

/** What a reload carries over for a target (the new processor re-binds the rule by name). */
export interface TargetCarry {
  readonly cooldownUntil: number;
  readonly lastActivityMs: number;
  readonly woken?: { readonly rule: string; readonly count: number };
}

export class Target {
  /** The flow under way: at most one per group (single-flight); `adopt` is the read at start. */
  busy: 'wake' | 'sleep' | 'adopt' | undefined;
  /** performance.now() before which traffic does not call Nomad again. */
  cooldownUntil = 0;
  /** performance.now() of the last matching trigger. */
  lastTriggerMs = -Infinity;
  /** performance.now() of the last trigger, or of the last open connection to its ports closing. */
  lastActivityMs = 0;
  /** A trigger that arrived during a sleep: it wakes the group as soon as the sleep ends. */
  pendingWake: Trigger | undefined;
  /** Set while the group is up because of this agent (or adopted); only then does it go back to sleep. */
  woken: Woken | undefined;
  /** A policy or request error made scale-downs pointless until a reload or the next wake. */
  sleepBlocked = false;
  sleepTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly key: string,
    readonly namespace: string,
    readonly job: string,
    readonly group: string,
    readonly rules: readonly CompiledRule[],
  ) {}

  /** Where messages name it. */
  get label(): string {
    return `${this.namespace}/${this.job}/${this.group}`;
  }

  carry(): TargetCarry {
    return {
      cooldownUntil: this.cooldownUntil,
      lastActivityMs: this.lastActivityMs,
      woken: this.woken ? { rule: this.woken.rule.name, count: this.woken.count } : undefined,
    };
  }
}
