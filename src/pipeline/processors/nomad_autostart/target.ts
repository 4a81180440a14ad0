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

/** The flows that run one at a time per group; `adopt` is the read at start. */
export type Flow = 'wake' | 'sleep' | 'adopt';

/**
 * Where a group stands with this agent. Between flows: `idle` (not woken by this agent, nothing
 * to put to sleep), `awake` (woken or adopted: the idle clock runs), `sleep-blocked` (woken, but
 * Nomad refused a scale-down for a reason only a person can fix: no more tries until a reload or
 * the next wake). During a flow: `waking`, `sleeping`, `adopting`, each carrying what the group
 * returns to when it ends.
 */
export type TargetState =
  | { readonly kind: 'idle' }
  | { readonly kind: 'awake'; readonly woken: Woken }
  | { readonly kind: 'sleep-blocked'; readonly woken: Woken }
  | { readonly kind: 'waking' | 'sleeping' | 'adopting'; readonly woken?: Woken; readonly blocked: boolean };

const FLOW_STATE: Readonly<Record<Flow, 'waking' | 'sleeping' | 'adopting'>> = { wake: 'waking', sleep: 'sleeping', adopt: 'adopting' };
const IDLE: TargetState = { kind: 'idle' };

export class Target {
  /** Every transition goes through the methods below; nothing else writes it. */
  private current: TargetState = IDLE;
  /** performance.now() before which traffic does not call Nomad again. */
  cooldownUntil = 0;
  /** performance.now() of the last matching trigger. */
  lastTriggerMs = -Infinity;
  /** performance.now() of the last trigger, or of the last open connection to its ports closing; -Infinity: none seen. */
  lastActivityMs = -Infinity;
  /** performance.now() before which the idle timer does not fire: the cluster said "not now" (cluster.ts). */
  sleepNotBefore = -Infinity;
  /** A trigger that arrived during a sleep: it wakes the group as soon as the sleep ends. */
  pendingWake: Trigger | undefined;
  sleepTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly key: string,
    readonly namespace: string,
    readonly job: string,
    readonly group: string,
    readonly rules: readonly CompiledRule[],
  ) {}

  get state(): TargetState {
    return this.current;
  }

  /** The flow under way: at most one per group (single-flight). */
  get busy(): Flow | undefined {
    switch (this.current.kind) {
      case 'waking':
        return 'wake';
      case 'sleeping':
        return 'sleep';
      case 'adopting':
        return 'adopt';
      case 'idle':
      case 'awake':
      case 'sleep-blocked':
        return undefined;
    }
  }

  /** Set while the group is up because of this agent (or adopted); only then does it go back to sleep. */
  get woken(): Woken | undefined {
    return this.current.kind === 'idle' ? undefined : this.current.woken;
  }

  /** A policy or request error made scale-downs pointless until a reload or the next wake. */
  get sleepBlocked(): boolean {
    const c = this.current;
    return c.kind === 'sleep-blocked' || ((c.kind === 'waking' || c.kind === 'sleeping' || c.kind === 'adopting') && c.blocked);
  }

  // ---- transitions ---------------------------------------------------------------------------

  /** A flow starts; a sleep only from awake, any flow only between flows. False (nothing changes) otherwise. */
  begin(flow: Flow): boolean {
    const c = this.current;
    if (c.kind === 'waking' || c.kind === 'sleeping' || c.kind === 'adopting') return false;
    if (flow === 'sleep' && c.kind !== 'awake') return false;
    this.current = { kind: FLOW_STATE[flow], woken: this.woken, blocked: c.kind === 'sleep-blocked' };
    return true;
  }

  /** The flow ended: back between flows, where what it learned puts the group. */
  end(): void {
    const c = this.current;
    if (c.kind !== 'waking' && c.kind !== 'sleeping' && c.kind !== 'adopting') return;
    this.current = c.woken === undefined ? IDLE : c.blocked ? { kind: 'sleep-blocked', woken: c.woken } : { kind: 'awake', woken: c.woken };
  }

  /** This agent woke the group (or found it up and takes care of it): its idle clock decides the sleep. */
  wokeUp(woken: Woken): void {
    const c = this.current;
    this.current = c.kind === 'idle' || c.kind === 'awake' || c.kind === 'sleep-blocked' ? { kind: 'awake', woken } : { kind: c.kind, woken, blocked: false };
  }

  /** Nomad refused the scale-down for a reason a person must fix. */
  blockSleep(): void {
    const c = this.current;
    if (c.kind === 'awake') this.current = { kind: 'sleep-blocked', woken: c.woken };
    else if ((c.kind === 'waking' || c.kind === 'sleeping' || c.kind === 'adopting') && c.woken) this.current = { ...c, blocked: true };
  }

  /** The group is at zero (or someone else's now): nothing left for this agent to put to sleep. */
  fellAsleep(): void {
    const c = this.current;
    this.current = c.kind === 'waking' || c.kind === 'sleeping' || c.kind === 'adopting' ? { kind: c.kind, blocked: false } : IDLE;
  }

  /** Where messages name it. */
  get label(): string {
    return `${this.namespace}/${this.job}/${this.group}`;
  }

  carry(): TargetCarry {
    const woken = this.woken;
    return {
      cooldownUntil: this.cooldownUntil,
      lastActivityMs: this.lastActivityMs,
      woken: woken ? { rule: woken.rule.name, count: woken.count } : undefined,
    };
  }
}
