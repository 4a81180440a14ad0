// This node's activity per group, published for the cluster's sleep (cluster.ts reads it): the
// variable <variables_prefix>/<node>, one item per idle-tracked group, "active" or "idle". A group
// is active here while some trigger of its rules came within its idle window (its rules' longest
// idle_after) or a connection to their ports is open, whoever woke it.
//
// Written with a check-and-set on its own ModifyIndex (nobody else writes it): at once when a
// group turns active (that write is the veto a sleeper's second read finds) or idle, and while
// any group is active at most every window/4, so that an "active" older than the window is a
// dead node's (cluster.ts ages it out by the variable's ModifyTime). A 409 carries the variable as
// it is now: its index is taken and the write tried again. Nomad failing is retried with backoff
// and reported once (the flows' "unreachable"); a 403 or a Nomad without Variables turns the
// cluster's sleep off (cluster.ts), and the write is tried again every retry.max.
import { Backoff } from './backoff';
import { CallError } from './calls';
import { conflictingVariable } from './client';
import { formatMs, now } from './clock';
import type { Cluster } from './cluster';
import type { OpenConnections } from './connections';
import type { FlowContext } from './context';
import type { Target } from './target';
import { ACTIVE, HOST_ITEM, IDLE, itemKey } from './variables';

type State = typeof ACTIVE | typeof IDLE;

/** Conflicts in a row written again at once; more, and the next write waits a backoff step. */
const IMMEDIATE_REWRITES = 3;
/** A refresh every window/REFRESH_PARTS while active; a variable older than the window is stale. */
export const REFRESH_PARTS = 4;

/** A group as this node judges its activity. */
interface Tracked {
  readonly t: Target;
  readonly key: string;
  /** The longest idle_after of its rules: no trigger for this long (and nothing open) is idle. */
  readonly windowMs: number;
  /** Every port of its idle-tracked rules. */
  readonly ports: readonly number[];
}

/** A group's idle window: the longest idle_after of its rules (0 when none has one). */
export function activityWindowMs(t: Target): number {
  return Math.max(0, ...t.rules.map((r) => r.cfg.idle_after_ms));
}

export class ActivityPublisher {
  private readonly tracked: readonly Tracked[];
  private readonly byTarget: ReadonlyMap<Target, Tracked>;
  /** What the variable says, as last written. */
  private readonly published = new Map<Target, State>();
  /** The variable's ModifyIndex as last written or read; undefined until read, 0 when there is none. */
  private modifyIndex: number | undefined;
  private lastWriteMs = -Infinity;
  private running = false;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly backoff: Backoff;
  /** Started after a restart, not a reload: the first read takes over the groups the variable calls active. */
  private resume = false;
  /** A write went through: Nomad's listing of the prefix must show this node's variable. */
  written = false;

  constructor(
    private readonly ctx: FlowContext,
    private readonly cluster: Cluster,
    targets: readonly Target[],
    private readonly connections: OpenConnections,
  ) {
    this.tracked = targets
      .filter((t) => activityWindowMs(t) > 0)
      .map((t) => ({
        t,
        key: itemKey(t),
        windowMs: activityWindowMs(t),
        ports: [...new Set(t.rules.filter((r) => r.cfg.idle_after_ms > 0).flatMap((r) => [...r.idlePorts]))],
      }));
    this.byTarget = new Map(this.tracked.map((x) => [x.t, x]));
    this.backoff = new Backoff(ctx.cfg.retry.initial_ms, ctx.cfg.retry.max_ms);
  }

  /** Whether any group is tracked (else there is nothing to publish, and no cluster sleep). */
  get empty(): boolean {
    return this.tracked.length === 0;
  }

  /**
   * Reads this node's variable and writes what it sees now. After a restart (`resume`: not a
   * reload, which carries the idle clocks over) a group the variable calls active stays active
   * for one more window: the agent before this one saw traffic this one has not seen yet.
   */
  start(resume: boolean): void {
    this.resume = resume;
    this.kick();
  }

  /** Hot path: a trigger for `t`, or a connection to its ports opened; a write only when it was published idle (and the Variables can be used). */
  touch(t: Target): void {
    if (this.published.get(t) === ACTIVE || !this.byTarget.has(t)) return;
    if (this.running) this.again = true;
    else if (this.cluster.coordinating) this.kick();
  }

  /** Something moved an idle clock (a close): plan again. */
  changed(): void {
    this.kick();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private stateOf(x: Tracked): State {
    for (const p of x.ports) if (this.connections.open(p) > 0) return ACTIVE;
    // As Sleep.isIdle: a timer set for the end of the window may fire a millisecond early.
    return now() - x.t.lastActivityMs < x.windowMs - 1 ? ACTIVE : IDLE;
  }

  /** One publishing loop at a time; a kick during it runs it once more. */
  private kick(): void {
    if (this.ctx.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    void this.loop()
      .catch((e: unknown) => this.ctx.log.error('unexpected failure publishing this node\u2019s activity', { error: e as Error }))
      .finally(() => {
        this.running = false;
        if (this.again) this.kick();
        else this.plan();
      });
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      await this.publish();
    } while (this.again && !this.ctx.stopped);
  }

  /** Writes when a group changed state, the refresh is due, or nothing was written yet; retries until it goes through or cannot. */
  private async publish(): Promise<void> {
    const ctx = this.ctx;
    let conflicts = 0;
    for (;;) {
      if (ctx.stopped || !this.cluster.coordinating) return;
      try {
        if (this.modifyIndex === undefined) await this.readOwn();
        const want = new Map(this.tracked.map((x) => [x.t, this.stateOf(x)] as const));
        const changed = [...want].some(([t, s]) => this.published.get(t) !== s);
        if (this.written && !changed && !this.refreshDue(want)) return;
        const items: Record<string, string> = { [HOST_ITEM]: ctx.agentHost };
        for (const x of this.tracked) items[x.key] = want.get(x.t)!;
        const v = await ctx.call('variable write', () =>
          ctx.client.putVariable(this.cluster.activityPath, items, this.modifyIndex!, { namespace: this.cluster.namespace }),
        );
        this.modifyIndex = v.ModifyIndex;
        this.lastWriteMs = now();
        for (const [t, s] of want) this.published.set(t, s);
        this.written = true;
        this.backoff.reset();
        this.cluster.worked();
        if (ctx.reports.clear('unreachable')) ctx.log.info('Nomad answers again');
        return;
      } catch (e) {
        if (ctx.stopped) return;
        if (!(e instanceof CallError)) throw e;
        const err = e.error;
        if (err.kind === 'conflict') {
          // Someone wrote this node's variable (an agent before this one, a person): go on from what it is now.
          this.modifyIndex = conflictingVariable(err)?.ModifyIndex;
          if (++conflicts > IMMEDIATE_REWRITES) await ctx.delay(this.backoff.next());
          continue;
        }
        if (err.retryable || err.kind === 'tls') {
          ctx.reports.once(
            'unreachable',
            'warn',
            `Nomad ${err.kind === 'server' ? 'failed' : 'could not be reached'} (${err.message}); retrying with backoff (at most every ${formatMs(ctx.cfg.retry.max_ms)})`,
          );
          await ctx.delay(this.backoff.next());
          continue;
        }
        this.cluster.unusable(e);
        return;
      }
    }
  }

  /** This node's variable as Nomad has it: its index for the check-and-set, and (after a restart) the groups it called active. */
  private async readOwn(): Promise<void> {
    const r = await this.ctx.call('variable read', () => this.ctx.client.readVariable(this.cluster.activityPath, { namespace: this.cluster.namespace }));
    this.modifyIndex = r.value?.ModifyIndex ?? 0;
    if (!this.resume || !r.value) return;
    this.resume = false;
    const at = now();
    for (const x of this.tracked) if (r.value.Items[x.key] === ACTIVE) x.t.lastActivityMs = Math.max(x.t.lastActivityMs, at);
  }

  /** While some group is active, a write every window/4 (of the shortest window among them) says this node is alive. */
  private refreshDue(want: ReadonlyMap<Target, State>): boolean {
    const every = this.refreshEvery(want);
    return every !== undefined && now() - this.lastWriteMs >= every;
  }

  private refreshEvery(want: ReadonlyMap<Target, State>): number | undefined {
    let every: number | undefined;
    for (const x of this.tracked) if (want.get(x.t) === ACTIVE) every = Math.min(every ?? Infinity, x.windowMs / REFRESH_PARTS);
    return every;
  }

  /** The next moment something may need writing: a group's window ending, the refresh, or (refused) the next try. */
  private plan(): void {
    if (this.ctx.stopped) return;
    const at = now();
    let next = Infinity;
    if (!this.cluster.coordinating) next = this.cluster.retryAt;
    else {
      const want = new Map(this.tracked.map((x) => [x.t, this.stateOf(x)] as const));
      for (const x of this.tracked) {
        // Changed while the last write was on its way (a window ended meanwhile): write again now.
        if (want.get(x.t) !== this.published.get(x.t)) next = at;
        if (want.get(x.t) !== ACTIVE || x.ports.some((p) => this.connections.open(p) > 0)) continue;
        next = Math.min(next, x.t.lastActivityMs + x.windowMs);
      }
      const every = this.refreshEvery(want);
      if (every !== undefined) next = Math.min(next, this.lastWriteMs + every);
    }
    if (next === Infinity) return;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.kick();
      },
      Math.max(0, Math.ceil(next - at)),
    );
    this.timer.unref();
  }
}
