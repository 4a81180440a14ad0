// The wake flow: raise the group's count when it is below the rule's (never lowering what someone
// else set), or start a stopped job when the rule allows it; then wait for readiness. Runs on the
// shared retry loop (retry.ts).
//
// With a check-and-set (servers from 1.8.2, write-mode.ts) a wake decides from warm state
// (warm-state.ts) and makes one request: POST /v1/job/:job/scale with Count and the job's
// JobModifyIndex. When another writer got there first, Nomad answers 500 "Enforcing job modify
// index …" and nothing is written: the wake reads the job again (GET /v1/job/:job) and decides
// again — the group may be up already (`already_scaled`). When warm state is not current (the
// stream reconnecting) the same read comes first. Otherwise (older servers, an unknown version, a
// token that cannot read jobs) it reads the scale status and writes without a token.
import { groupNotFound, jobNotFound, jobStopped } from './advice';
import { CallError } from './calls';
import type { JobScaleStatus, NomadJob } from './client';
import { formatMs, hrSeconds, now } from './clock';
import type { FlowContext } from './context';
import { activityWindowMs } from './activity';
import { adopt, adoptFoundUp, markWoken, META, wokenBy } from './history';
import type { Outcome } from './outcomes';
import { retrying } from './retry';
import type { Target } from './target';
import type { ActionRecord } from './telemetry';
import type { Trigger } from './trigger';
import { waitReady } from './waits';
import { WarmState } from './warm-state';

/** One wake as its attempts see it. */
interface Wakeup {
  readonly t: Target;
  readonly trig: Trigger;
  readonly rec: ActionRecord;
  /** A write of this wake failed without an answer (a timeout, a 5xx): Nomad may have carried it out. */
  unsure: boolean;
}

/** Failures after which a write may or may not have been carried out. */
const UNSURE = new Set(['server', 'timeout', 'connection', 'tls']);

export class Wake {
  constructor(private readonly ctx: FlowContext) {}

  /** One wake of `t` for `trig`, from the first attempt to its log record; how it ended. */
  async run(t: Target, trig: Trigger): Promise<Outcome> {
    const ctx = this.ctx;
    const rule = trig.rule;
    const rec: ActionRecord = {
      event: 'wake',
      rule,
      trigger: trig.kind,
      reason: trig.reason,
      outcome: 'failed',
      clientAddress: trig.clientAddress,
      serverPort: trig.serverPort,
      dryRun: ctx.dryRun,
    };
    const w: Wakeup = { t, trig, rec, unsure: false };
    try {
      const end = await retrying(ctx, t, rule, 'wake', rec, () => (ctx.checkAndSet(t) ? this.fromWarmState(w) : this.readThenWrite(w)), {
        gaveUp: () => now() - t.lastTriggerMs > ctx.cfg.retry.give_up_after_ms,
        onGiveUp: (why) =>
          ctx.log.warn(
            why === 'deployment'
              ? `gave up waking ${t.label}: its deployment was still active after ${formatMs(ctx.cfg.retry.give_up_after_ms)}`
              : `gave up waking ${t.label}: Nomad kept failing and no matching traffic came for ${formatMs(ctx.cfg.retry.give_up_after_ms)}`,
            { rule: rule.name },
          ),
      });
      rec.outcome = end === 'aborted' ? 'cancelled' : end;
    } finally {
      t.cooldownUntil = now() + rule.cfg.cooldown_ms;
      ctx.telemetry.outcome('wake', rule, rec.outcome);
      if (rec.outcome !== 'already_scaled' && rec.outcome !== 'cancelled') {
        ctx.telemetry.emit(rec);
        ctx.logAction(t, rec);
      }
    }
    return rec.outcome;
  }

  // ---- one write, from warm state ---------------------------------------------------------

  private async fromWarmState(w: Wakeup): Promise<Outcome | 'deployment'> {
    const { t, trig, rec } = w;
    const ctx = this.ctx;
    const rule = trig.rule;
    const job = ctx.warm.get(t.namespace, t.job) ?? (await ctx.readJob(t));
    if (job === 'unreadable') return this.readThenWrite(w);
    if (job.kind === 'missing') {
      ctx.reports.once(`not_found:${t.key}`, 'warn', jobNotFound(rule));
      return 'job_not_found';
    }
    ctx.reports.clear(`not_found:${t.key}`);
    const desired = job.counts.get(t.group);
    if (desired === undefined) {
      ctx.reports.once(`group:${t.key}`, 'warn', groupNotFound(rule, [...job.counts.keys()]));
      return 'group_not_found';
    }
    ctx.reports.clear(`group:${t.key}`);
    rec.previousCount = desired;
    if (job.stopped) return this.startStopped(w, desired);
    ctx.reports.clear(`stopped:${t.key}`);
    const want = rule.cfg.count;
    if (desired >= want) return this.foundUp(w, desired);
    // Nomad would refuse the count change (Job.Scale "job scaling blocked due to active deployment"): wait first.
    if (WarmState.deploymentBlocks(job)) return 'deployment';
    rec.count = want;
    if (ctx.dryRun) {
      markWoken(t, rule, want);
      return 'dry_run';
    }
    const token = job.jobModifyIndex;
    const sentAt = process.hrtime.bigint();
    const answer = await this.write(w, () => ctx.scale(rule, t, want, `autostart: ${trig.reason}`, this.meta(trig), token), token);
    ctx.warm.wrote(t.namespace, t.job, token, t.group, want, answer);
    rec.evalId = answer.EvalID;
    rec.timeToScaleCallS = hrSeconds(trig.atNs, sentAt);
    ctx.telemetry.timeToScaleCall(rule, rec.timeToScaleCallS);
    markWoken(t, rule, want);
    if (rule.cfg.wait_for !== 'none') await waitReady(ctx, t, trig, rec, answer.Index);
    return 'scaled';
  }

  /** A write of this wake: a conflict makes warm state read the job again; a failure without an answer leaves the wake unsure. */
  private async write<T>(w: Wakeup, fn: () => Promise<T>, token?: number): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof CallError) {
        if (e.error.kind === 'conflict' && token !== undefined) this.ctx.warm.conflicted(w.t.namespace, w.t.job, token);
        if (UNSURE.has(e.error.kind)) w.unsure = true;
      }
      throw e;
    }
  }

  /**
   * The group is at or above the rule's count. Nomad's history is read only when it can tell
   * something: a scale request of this wake that failed without an answer may have been carried
   * out (then the wake did happen), the read at start failed (this agent may have woken it), or
   * the cluster decides sleep and another agent may have woken it (its check-and-set won): then
   * it is this agent's to put to sleep too.
   */
  private async foundUp(w: Wakeup, desired: number): Promise<Outcome> {
    const { t } = w;
    const ctx = this.ctx;
    if (!w.unsure && !ctx.unadopted.has(t)) {
      if (ctx.cluster?.coordinating === true && !t.woken && activityWindowMs(t) > 0) await this.adoptFromHistory(t, desired);
      else adoptFoundUp(t, desired);
      return 'already_scaled';
    }
    const status = await ctx.call('scale status', () => ctx.client.jobScaleStatus(t.job, t.namespace));
    return this.decideFoundUp(w, status.value, status.index);
  }

  /** Who woke the group, from its history: a netwatch agent's wake makes it this agent's to put to sleep too. Best effort: the next wake that finds it up asks again. */
  private async adoptFromHistory(t: Target, desired: number): Promise<void> {
    const ctx = this.ctx;
    try {
      const status = await ctx.call('scale status', () => ctx.client.jobScaleStatus(t.job, t.namespace));
      const g = status.value.TaskGroups[t.group];
      if (g && !status.value.JobStopped) adopt(t, g, ctx.wakers());
    } catch (e) {
      if (ctx.stopped) throw e;
      adoptFoundUp(t, desired); // idle_scale_down: any needs no history
      ctx.log.debug(`could not read who woke ${t.label}; asked again when a wake next finds it up`, { error: (e as Error).message });
    }
  }

  // ---- read, then write ---------------------------------------------------------------------

  private async readThenWrite(w: Wakeup): Promise<Outcome> {
    const { t, trig, rec } = w;
    const ctx = this.ctx;
    const rule = trig.rule;
    const status = await ctx.call('scale status', () => ctx.client.jobScaleStatus(t.job, t.namespace));
    ctx.reports.clear(`not_found:${t.key}`);
    const g = status.value.TaskGroups[t.group];
    if (!g) {
      ctx.reports.once(`group:${t.key}`, 'warn', groupNotFound(rule, Object.keys(status.value.TaskGroups)));
      return 'group_not_found';
    }
    ctx.reports.clear(`group:${t.key}`);
    rec.previousCount = g.Desired;
    if (status.value.JobStopped) return this.startStopped(w, g.Desired);
    ctx.reports.clear(`stopped:${t.key}`);
    const want = rule.cfg.count;
    if (g.Desired >= want) return this.decideFoundUp(w, status.value, status.index);
    rec.count = want;
    if (ctx.dryRun) {
      markWoken(t, rule, want);
      return 'dry_run';
    }
    const sentAt = process.hrtime.bigint();
    const answer = await this.write(w, () => ctx.scale(rule, t, want, `autostart: ${trig.reason}`, this.meta(trig)));
    rec.evalId = answer.EvalID;
    rec.timeToScaleCallS = hrSeconds(trig.atNs, sentAt);
    ctx.telemetry.timeToScaleCall(rule, rec.timeToScaleCallS);
    markWoken(t, rule, want);
    if (rule.cfg.wait_for !== 'none') await waitReady(ctx, t, trig, rec, Math.max(status.index, answer.Index));
    return 'scaled';
  }

  /** Up already, with its scaling history at hand: this wake's own write (answer lost), or someone else's. */
  private async decideFoundUp(w: Wakeup, status: JobScaleStatus, index: number): Promise<Outcome> {
    const { t, trig, rec } = w;
    const ctx = this.ctx;
    const rule = trig.rule;
    const g = status.TaskGroups[t.group];
    if (!g) return 'group_not_found';
    ctx.unadopted.delete(t);
    // A scale request of this wake failed without an answer, yet Nomad took it: the wake did happen.
    if (w.unsure && wokenBy(g, { host: ctx.agentHost }) === rule.name) {
      markWoken(t, rule, rule.cfg.count);
      if (rule.cfg.wait_for !== 'none') await waitReady(ctx, t, trig, rec, index);
      return 'scaled';
    }
    adopt(t, g, ctx.wakers());
    return 'already_scaled';
  }

  // ---- a stopped job --------------------------------------------------------------------------

  /** A stopped job: started by re-registering it with Stop=false (check-and-set), when allowed. */
  private async startStopped(w: Wakeup, desired: number): Promise<Outcome> {
    const { t, trig, rec } = w;
    const ctx = this.ctx;
    const rule = trig.rule;
    if (!rule.cfg.start_stopped) {
      ctx.reports.once(`stopped:${t.key}`, 'info', jobStopped(rule));
      return 'job_stopped';
    }
    const want = Math.max(desired, rule.cfg.count);
    rec.count = want;
    if (ctx.dryRun) {
      markWoken(t, rule, want);
      return 'dry_run';
    }
    const read = await ctx.call('job read', () => ctx.client.readJob(t.job, t.namespace));
    const job = read.value;
    const enabled = await this.scalingBeforeStop(t, job);
    const spec = {
      ...job,
      Stop: false,
      TaskGroups: (job.TaskGroups ?? []).map((tg) => {
        const scaling = tg.Scaling && tg.Scaling.Enabled === false && enabled.get(tg.Name) === true ? { ...tg.Scaling, Enabled: true } : tg.Scaling;
        return { ...tg, Scaling: scaling, ...(tg.Name === t.group ? { Count: Math.max(tg.Count ?? 0, want) } : {}) };
      }),
    };
    const token = job.JobModifyIndex ?? 0;
    const sentAt = process.hrtime.bigint();
    const answer = await this.write(
      w,
      () => ctx.call('job register', () => ctx.client.registerJob(spec, { namespace: t.namespace, enforceIndex: true, jobModifyIndex: token })),
      token,
    );
    rec.evalId = answer.EvalID;
    rec.timeToScaleCallS = hrSeconds(trig.atNs, sentAt);
    ctx.telemetry.timeToScaleCall(rule, rec.timeToScaleCallS);
    markWoken(t, rule, want);
    // Registering writes no scaling event; an event without a count records the start in the group's history.
    try {
      await ctx.scale(rule, t, null, `autostart: started the stopped job: ${trig.reason}`, { ...this.meta(trig), [META.COUNT]: want });
    } catch (e) {
      if (ctx.stopped) throw e;
      ctx.log.warn(`started ${t.label}, but recording it in Nomad's scaling history failed`, { rule: rule.name, error: e as Error });
    }
    if (rule.cfg.wait_for !== 'none') await waitReady(ctx, t, trig, rec, answer.Index);
    return 'started';
  }

  /**
   * Stopping a job disables its scaling policies (hashicorp/nomad nomad/fsm.go
   * handleJobDeregister), and re-registering it keeps them off; so a start restores what the
   * newest running version had, read from the job's versions. Only when some policy is off.
   */
  private async scalingBeforeStop(t: Target, job: NomadJob): Promise<Map<string, boolean>> {
    const out = new Map<string, boolean>();
    if (!(job.TaskGroups ?? []).some((tg) => tg.Scaling?.Enabled === false)) return out;
    const versions = await this.ctx.call('job read', () => this.ctx.client.jobVersions(t.job, t.namespace));
    const before = versions.value.Versions.find((v) => v.Stop !== true);
    for (const tg of before?.TaskGroups ?? []) if (tg.Scaling) out.set(tg.Name, tg.Scaling.Enabled !== false);
    return out;
  }

  private meta(trig: Trigger): Record<string, unknown> {
    return { [META.TRIGGER]: trig.kind, [META.REASON]: trig.reason, [META.RULE]: trig.rule.name, [META.AGENT_HOST]: this.ctx.agentHost };
  }
}
