// The sleep side: the idle clock of each group this agent woke (the last trigger, or the close of
// the last open connection to the rule's ports), its timer, and the sleep flow that scales an idle
// group back to 0 — only when Nomad's history says this agent set its count (any netwatch agent,
// when the cluster decides sleep; or the rule puts any group to sleep). When the cluster decides
// sleep (cluster.ts), a group idle here goes to 0 only once every node's activity says idle too,
// checked under the group's lock, which the scale-down holds. Runs on the shared retry loop
// (retry.ts). With a check-and-set (write-mode.ts) the scale-down carries the job's JobModifyIndex
// as known before the history is read, so a wake by anyone in between makes it conflict: it then
// reads again and decides again.
import { groupNotFound, jobNotFound } from './advice';
import { CallError } from './calls';
import { formatMs, now } from './clock';
import type { OpenConnections } from './connections';
import type { SleeperLock } from './cluster';
import type { FlowContext } from './context';
import { META, wokenBy } from './history';
import type { Outcome } from './outcomes';
import { retrying } from './retry';
import type { CompiledRule } from './rules';
import type { Flow, Target } from './target';
import type { ActionRecord } from './telemetry';
import { WarmState } from './warm-state';

export class Sleep {
  constructor(
    private readonly ctx: FlowContext,
    private readonly connections: OpenConnections,
    /** Starts a flow of `t` (single-flight, see Autostart.run). */
    private readonly start: (t: Target, flow: Flow, run: () => Promise<void>) => void,
  ) {}

  /** Open connections to the ports of the rule that woke `t`. */
  openConnections(t: Target): number {
    if (!t.woken) return 0;
    let n = 0;
    for (const p of t.woken.rule.idlePorts) n += this.connections.open(p);
    return n;
  }

  private idleFor(t: Target): number {
    return now() - t.lastActivityMs;
  }

  private isIdle(t: Target): boolean {
    return t.woken !== undefined && this.openConnections(t) === 0 && this.idleFor(t) >= t.woken.rule.cfg.idle_after_ms - 1;
  }

  /** (Re)arms the idle timer; it checks again when it fires, so later activity only pushes the sleep back. */
  arm(t: Target): void {
    if (this.ctx.stopped || !t.woken || t.woken.rule.disabled || t.sleepBlocked || t.sleepTimer || t.busy) return;
    const at = now();
    const due = Math.max(t.lastActivityMs + t.woken.rule.cfg.idle_after_ms - at, t.sleepNotBefore - at);
    t.sleepTimer = setTimeout(
      () => {
        t.sleepTimer = undefined;
        this.onIdleTimer(t);
      },
      Math.max(0, Math.ceil(due)),
    );
    t.sleepTimer.unref();
  }

  /** The last open connection to a port closed: the idle clock of the groups watching it starts now (woken or not: this node's activity counts it). */
  connectionsClosed(targets: readonly Target[]): void {
    const at = now();
    for (const t of targets) {
      t.lastActivityMs = Math.max(t.lastActivityMs, at);
      this.arm(t);
    }
  }

  private onIdleTimer(t: Target): void {
    if (this.ctx.stopped || !t.woken || t.woken.rule.disabled || t.busy || t.sleepBlocked) return;
    // Open connections: the timer is armed again when the last one closes.
    if (this.openConnections(t) > 0) return;
    if (!this.isIdle(t)) {
      this.arm(t);
      return;
    }
    this.start(t, 'sleep', () => this.run(t));
  }

  /**
   * When the cluster decides sleep: first whether every node is idle (under the group's lock), then
   * the scale-down holding the lock. Not now (held, active elsewhere, Nomad failing): the group is
   * looked at again a refresh period of the nodes' activity later. Without the Variables: alone.
   */
  private async run(t: Target): Promise<void> {
    const cluster = this.ctx.cluster;
    if (!cluster?.coordinating || this.atZero(t)) return this.sleep(t);
    const v = await cluster.idleEverywhere(t, () => this.isIdle(t));
    switch (v.kind) {
      case 'alone':
        return this.sleep(t);
      case 'not-now':
        t.sleepNotBefore = now() + cluster.recheckMs(t);
        if (t.woken) this.ctx.telemetry.sleepDeferred(t.woken.rule, v.reason);
        this.ctx.log.debug(`not putting ${t.label} to sleep now: ${v.why}`);
        return;
      case 'idle':
        try {
          await this.sleep(t, v.lock);
        } finally {
          if (v.lock.lost) t.sleepNotBefore = now() + cluster.recheckMs(t);
          await v.lock.release();
        }
    }
  }

  /** Warm state says the group is at 0 (or stopped): the sleep ends already_zero without asking anyone. */
  private atZero(t: Target): boolean {
    const job = this.ctx.warm.get(t.namespace, t.job);
    return job?.kind === 'present' && (job.stopped || job.counts.get(t.group) === 0);
  }

  /** One sleep of `t`, from the first attempt to its log record (none when traffic called it off, or the lock was lost). */
  private async sleep(t: Target, lock?: SleeperLock): Promise<void> {
    const ctx = this.ctx;
    const { rule } = t.woken!;
    const idleMs = rule.cfg.idle_after_ms;
    const ports = [...rule.idlePorts].sort((a, b) => a - b);
    const reason = `idle for ${formatMs(idleMs)}: no matching traffic${ports.length ? ` and no open connections to port${ports.length > 1 ? 's' : ''} ${ports.join(', ')}` : ''}`;
    const rec: ActionRecord = {
      event: 'sleep',
      rule,
      trigger: 'idle',
      reason,
      outcome: 'failed',
      count: 0,
      dryRun: ctx.dryRun,
      idleForS: this.idleFor(t) / 1000,
    };
    const started = now();
    const end = await retrying(ctx, t, rule, 'sleep', rec, () => this.once(t, rule, rec, lock), {
      // Traffic came meanwhile (or another agent took over the lock): the sleep is off, with nothing to report.
      proceed: () => (this.isIdle(t) && !lock?.lost ? undefined : 'aborted'),
      gaveUp: () => now() - started > ctx.cfg.retry.give_up_after_ms,
      // Stays woken: another idle period later, it tries again.
      onGiveUp: () => {
        t.lastActivityMs = now();
      },
    }).catch((e: unknown) => {
      this.report(t, rec);
      throw e;
    });
    if (end === 'aborted') return;
    rec.outcome = end;
    if (end === 'policy_violation' || end === 'bad_request') t.blockSleep();
    else if (end !== 'forbidden' && end !== 'failed' && end !== 'cancelled') t.fellAsleep();
    this.report(t, rec);
  }

  private report(t: Target, rec: ActionRecord): void {
    this.ctx.telemetry.outcome('sleep', rec.rule, rec.outcome);
    if (rec.outcome !== 'cancelled') {
      this.ctx.telemetry.emit(rec);
      this.ctx.logAction(t, rec);
    }
  }

  private async once(t: Target, rule: CompiledRule, rec: ActionRecord, lock?: SleeperLock): Promise<Outcome | 'aborted' | 'deployment'> {
    const ctx = this.ctx;
    // The token first: any write after what it stands for, the history read below included, makes the scale-down conflict.
    let token: number | undefined;
    if (ctx.checkAndSet(t) && !ctx.dryRun) {
      const job = ctx.warm.get(t.namespace, t.job) ?? (await ctx.readJob(t));
      if (job !== 'unreadable') {
        if (job.kind === 'missing') {
          ctx.reports.once(`not_found:${t.key}`, 'warn', jobNotFound(rule));
          return 'job_not_found';
        }
        const desired = job.counts.get(t.group);
        if (desired !== undefined && (desired === 0 || job.stopped)) {
          rec.previousCount = desired;
          return 'already_zero';
        }
        if (WarmState.deploymentBlocks(job)) return 'deployment';
        token = job.jobModifyIndex;
      }
    }
    const status = await ctx.call('scale status', () => ctx.client.jobScaleStatus(t.job, t.namespace));
    const g = status.value.TaskGroups[t.group];
    if (!g) {
      ctx.reports.once(`group:${t.key}`, 'warn', groupNotFound(rule, Object.keys(status.value.TaskGroups)));
      return 'group_not_found';
    }
    rec.previousCount = g.Desired;
    if (g.Desired === 0 || status.value.JobStopped) return 'already_zero';
    if (!ctx.dryRun && rule.cfg.idle_scale_down === 'woken' && wokenBy(g, ctx.wakers()) !== rule.name) return 'changed_elsewhere';
    // Traffic may have come while Nomad answered (or the lock went to another agent).
    if (!this.isIdle(t) || lock?.lost) return 'aborted';
    if (ctx.dryRun) return 'dry_run';
    const meta = { [META.TRIGGER]: 'idle', [META.REASON]: rec.reason, [META.RULE]: rule.name, [META.AGENT_HOST]: ctx.agentHost };
    let w;
    try {
      w = await ctx.scale(rule, t, 0, `autostart: ${rec.reason}`, meta, token);
    } catch (e) {
      if (token !== undefined && e instanceof CallError && e.error.kind === 'conflict') ctx.warm.conflicted(t.namespace, t.job, token);
      throw e;
    }
    if (token !== undefined) ctx.warm.wrote(t.namespace, t.job, token, t.group, 0, w);
    rec.evalId = w.EvalID;
    return 'scaled_down';
  }
}
