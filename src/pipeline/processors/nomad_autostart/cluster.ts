// Sleep decided for the cluster. A group that looks idle here is put to sleep only when every
// node's published activity (activity.ts) says idle too: the agent whose idle timer fires takes
// the Variables lock <lock_path>/<namespace>/<job>/<group> (TTL, renewed at half of it) and so
// becomes the group's one sleeper; it reads every node's activity, waits `grace`, reads again,
// and only then runs the scale-down (sleep.ts, with its check-and-set on the job). A node that saw
// traffic meanwhile has written "active" (its veto), which the second read finds. Held by someone
// else, or active somewhere: nothing now, look again later. An "active" in a variable Nomad last
// wrote longer ago than the group's idle window (by the leader's clock: the lock's ModifyTime) is
// a node that stopped publishing (gone, or cut off from Nomad for that long): it counts as idle.
//
// Without the Variables (a 403, a Nomad before Variables or their locks, a listing that hides this
// node's own variable) sleep falls back to each agent alone, reported once, and the cluster is
// tried again after retry.max.
import type { NOMAD_AUTOSTART_DEFERRAL_REASON_VALUES } from '../../../catalogue/generated';
import type { NomadCall } from './advice';
import { variablesPolicy, variablesRefused } from './advice';
import type { ActivityPublisher } from './activity';
import { activityWindowMs, REFRESH_PARTS } from './activity';
import { CallError } from './calls';
import type { NomadVariable } from './client';
import { formatMs, now } from './clock';
import type { FlowContext } from './context';
import type { Target } from './target';
import { ACTIVE, activityPath, itemKey, lockPath } from './variables';

/** Why a look did not put the group to sleep (netwatch.nomad.autostart.deferral_reason). */
export type DeferralReason = (typeof NOMAD_AUTOSTART_DEFERRAL_REASON_VALUES)[number];

/** What the sleeper found. */
export type ClusterVerdict =
  /** Idle on every node, checked twice `grace` apart: scale to 0 while holding `lock`, then release it. */
  | { readonly kind: 'idle'; readonly lock: SleeperLock }
  /** Not now: another agent holds the lock, a node is active, traffic came here, or Nomad failed. Look again later. */
  | { readonly kind: 'not-now'; readonly reason: DeferralReason; readonly why: string }
  /** The Variables cannot be used: decide as an agent alone. */
  | { readonly kind: 'alone' };

/** The sleeper's lock on one group, renewed while the flow runs. */
export class SleeperLock {
  /** A renewal was refused: someone else may be the sleeper now; nothing more may be written under it. */
  lost = false;
  private readonly takenAt = now();
  private renewal: NodeJS.Timeout | undefined;
  private released = false;

  constructor(
    private readonly ctx: FlowContext,
    private readonly cluster: Cluster,
    readonly path: string,
    readonly id: string,
    /** The leader's clock when it granted the lock (its ModifyTime), in Unix ns. */
    private readonly grantedNs: number,
  ) {
    const every = Math.max(1, ctx.cfg.cluster.lock_ttl_ms / 2);
    this.renewal = setInterval(() => void this.renew(), every);
    this.renewal.unref();
  }

  /** The leader's clock now, as the lock tells it: the grant plus what passed here since. */
  serverNowNs(): number {
    return this.grantedNs + (now() - this.takenAt) * 1e6;
  }

  private async renew(): Promise<void> {
    if (this.released || this.lost || this.ctx.stopped) return;
    try {
      await this.ctx.call('lock', () => this.ctx.client.renewLock(this.path, this.id, { namespace: this.cluster.namespace }));
    } catch (e) {
      // 409 (another holder, or the TTL ran out first) or 404 (the variable went away): no longer ours.
      if (e instanceof CallError && (e.error.kind === 'conflict' || e.error.kind === 'not_found')) {
        this.lost = true;
        this.ctx.log.debug(`lost the sleep lock ${this.path}; the sleep is called off`, { error: e.error.message });
      }
      // Anything else: the lock holds until its TTL; the next renewal tries again.
    }
  }

  /** Gives the lock up; a failure leaves it to its TTL. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    if (this.renewal) clearInterval(this.renewal);
    this.renewal = undefined;
    if (this.lost) return;
    try {
      await this.ctx.call('lock', () => this.ctx.client.releaseLock(this.path, this.id, { namespace: this.cluster.namespace }));
    } catch (e) {
      this.ctx.log.debug(`could not release the sleep lock ${this.path}; it lapses after ${formatMs(this.ctx.cfg.cluster.lock_ttl_ms)}`, {
        error: (e as Error).message,
      });
    }
  }
}

export class Cluster {
  /** The Variables' namespace: the processor's. */
  readonly namespace: string;
  /** This node's activity variable. */
  readonly activityPath: string;
  publisher: ActivityPublisher | undefined;
  /** Until then the Variables are not used (refused, or missing): sleep is decided alone. */
  private refusedUntil = -Infinity;

  constructor(
    private readonly ctx: FlowContext,
    /** The node this agent publishes as. */
    readonly node: string,
  ) {
    this.namespace = ctx.cfg.namespace;
    this.activityPath = activityPath(ctx.cfg.cluster.variables_prefix, node);
  }

  /** Whether sleep is decided for the cluster now. */
  get coordinating(): boolean {
    return now() >= this.refusedUntil;
  }

  /** When the Variables are tried again after a refusal. */
  get retryAt(): number {
    return this.refusedUntil;
  }

  /** How long to wait before looking at an idle group again after `not-now`: a refresh period of the nodes' activity. */
  recheckMs(t: Target): number {
    return Math.max(1, activityWindowMs(t) / REFRESH_PARTS);
  }

  /**
   * Whether `t` may go to sleep: the lock, a read of every node's activity, `grace`, another read.
   * `idleHere` is asked again after the grace (traffic here calls it off too).
   */
  async idleEverywhere(t: Target, idleHere: () => boolean): Promise<ClusterVerdict> {
    const ctx = this.ctx;
    const path = lockPath(ctx.cfg.cluster.lock_path, t);
    let lock: SleeperLock;
    try {
      const v = await ctx.call('lock', () =>
        ctx.client.acquireLock(
          path,
          { holder: this.node },
          { namespace: this.namespace, ttlMs: ctx.cfg.cluster.lock_ttl_ms, lockDelayMs: ctx.cfg.cluster.lock_ttl_ms },
        ),
      );
      const id = v.Lock?.ID;
      if (!id) return this.missing('Nomad wrote the lock variable without a lock: its servers have no Variables locks (from Nomad 1.7)');
      lock = new SleeperLock(ctx, this, path, id, v.ModifyTime > 0 ? v.ModifyTime : Date.now() * 1e6);
      this.worked();
    } catch (e) {
      if (e instanceof CallError && e.error.kind === 'conflict') return { kind: 'not-now', reason: 'lock_held', why: `another agent holds ${path}` };
      return this.failed(e, path);
    }
    try {
      let active = await this.activeNodes(t, lock);
      let reason: DeferralReason = 'active_elsewhere';
      if (typeof active !== 'string' && active.length === 0) {
        await ctx.delay(ctx.cfg.cluster.grace_ms);
        if (ctx.stopped || lock.lost) [active, reason] = [['(lock lost)'], 'lock_lost'];
        else if (!idleHere()) [active, reason] = [['this one'], 'active_here'];
        else active = await this.activeNodes(t, lock);
      }
      if (typeof active === 'string') {
        await lock.release();
        return { kind: 'alone' };
      }
      if (active.length > 0) {
        await lock.release();
        return { kind: 'not-now', reason, why: `active on ${active.join(', ')}` };
      }
      return { kind: 'idle', lock };
    } catch (e) {
      await lock.release();
      return this.failed(e, `${ctx.cfg.cluster.variables_prefix}/`);
    }
  }

  /**
   * The nodes whose activity says `t` is active, not counting this one (the sleeper judges itself)
   * nor variables Nomad last wrote longer than the group's window ago; or 'alone' when Nomad's
   * listing hides this node's own variable (the token may not list them).
   */
  private async activeNodes(t: Target, lock: SleeperLock): Promise<string[] | 'alone'> {
    const ctx = this.ctx;
    const prefix = `${ctx.cfg.cluster.variables_prefix}/`;
    const listed = await ctx.call('variable list', () => ctx.client.listVariables(prefix, { namespace: this.namespace }));
    if (this.publisher?.written && !listed.value.some((v) => v.Path === this.activityPath)) {
      this.refuse(
        'variable list',
        prefix,
        `Nomad listed the variables under ${prefix} without this node's own (${this.activityPath}): the token may not list them`,
      );
      return 'alone';
    }
    const oldestNs = lock.serverNowNs() - activityWindowMs(t) * 1e6;
    const others = listed.value.filter((v) => v.Path !== this.activityPath && v.Path.startsWith(prefix) && v.ModifyTime >= oldestNs);
    const key = itemKey(t);
    const read = await Promise.all(others.map((v) => ctx.call('variable read', () => ctx.client.readVariable(v.Path, { namespace: this.namespace }))));
    return read
      .map((r) => r.value)
      .filter((v): v is NomadVariable => v !== null && v.Items[key] === ACTIVE && v.ModifyTime >= oldestNs)
      .map((v) => v.Path.slice(prefix.length));
  }

  /** A failure of a Variables call: Nomad failing is `not-now` (and reported once); a refusal or a missing API is `alone`. */
  private failed(e: unknown, path: string): ClusterVerdict {
    if (!(e instanceof CallError)) throw e;
    const err = e.error;
    if (err.retryable || err.kind === 'tls') {
      this.ctx.reports.once(
        'unreachable',
        'warn',
        `Nomad ${err.kind === 'server' ? 'failed' : 'could not be reached'} (${err.message}); retrying with backoff (at most every ${formatMs(this.ctx.cfg.retry.max_ms)})`,
      );
      return { kind: 'not-now', reason: 'nomad_failed', why: err.message };
    }
    this.unusable(e, e.call, path);
    return { kind: 'alone' };
  }

  /** The Variables cannot be used as they are (a refusal, no such API, a request Nomad rejects): sleep alone until retry.max has passed. */
  unusable(e: CallError, call: NomadCall = e.call, path = this.activityPath): void {
    const err = e.error;
    if (err.kind === 'forbidden') {
      const cfg = this.ctx.cfg;
      this.refuse(
        call,
        path,
        variablesRefused(
          call,
          path,
          this.namespace,
          variablesPolicy(this.namespace, cfg.cluster.variables_prefix, cfg.cluster.lock_path),
          formatMs(cfg.retry.max_ms),
        ),
      );
    } else if (err.kind === 'not_found') {
      this.missing(`Nomad answered 404 to ${e.call} of ${path}: its servers have no Variables (from Nomad 1.4)`);
    } else {
      this.refuse(call, path, `Nomad rejected the ${call} of variable ${path}: ${err.message}`, 'error');
    }
  }

  private missing(why: string): ClusterVerdict {
    this.refusedUntil = now() + this.ctx.cfg.retry.max_ms;
    this.ctx.reports.once('variables:missing', 'info', `${why}; sleep is decided by each agent from its own traffic, as with cluster.enabled false`);
    this.publisher?.changed();
    return { kind: 'alone' };
  }

  private refuse(call: NomadCall, path: string, message: string, level: 'warn' | 'error' = 'warn'): void {
    this.refusedUntil = now() + this.ctx.cfg.retry.max_ms;
    this.ctx.reports.once(`variables:${call}`, level, message, { path });
    this.publisher?.changed();
  }

  /** A Variables call went through: forget the refusals said, and say the cluster decides again. */
  worked(): void {
    const r = this.ctx.reports;
    const was =
      ['variable read', 'variable list', 'variable write', 'lock'].map((c) => r.clear(`variables:${c}`)).some(Boolean) || r.clear('variables:missing');
    if (was) this.ctx.log.info('Nomad Variables work again: sleep is decided across the cluster');
  }
}
