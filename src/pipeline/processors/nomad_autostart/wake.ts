// The wake flow: read the group's scale status and raise its count when it is below the rule's
// (never lowering what someone else set), or start a stopped job when the rule allows it; then
// wait for readiness. Runs on the shared retry loop (retry.ts).
import { groupNotFound, jobStopped } from './advice';
import type { TaskGroupScaleStatus, NomadJob } from './client';
import { formatMs, hrSeconds, now } from './clock';
import type { FlowContext } from './context';
import { adopt, markWoken, META, wokenBy } from './history';
import type { Outcome } from './outcomes';
import { retrying } from './retry';
import type { Target } from './target';
import type { ActionRecord } from './telemetry';
import type { Trigger } from './trigger';
import { waitReady } from './waits';

export class Wake {
  constructor(private readonly ctx: FlowContext) {}

  /** One wake of `t` for `trig`, from the first attempt to its log record. */
  async run(t: Target, trig: Trigger): Promise<void> {
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
    try {
      const end = await retrying(ctx, t, rule, 'wake', rec, () => this.once(t, trig, rec), {
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
  }

  private async once(t: Target, trig: Trigger, rec: ActionRecord): Promise<Outcome> {
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
    if (status.value.JobStopped) return this.startStopped(t, trig, rec, g);
    ctx.reports.clear(`stopped:${t.key}`);
    const want = rule.cfg.count;
    if (g.Desired >= want) {
      // A scale request of this wake timed out, yet Nomad took it: the wake did happen.
      if (rec.count !== undefined && wokenBy(g, ctx.agentHost) === rule.name) {
        markWoken(t, rule, want);
        if (rule.cfg.wait_for !== 'none') await waitReady(ctx, t, trig, rec, status.index);
        return 'scaled';
      }
      adopt(t, g, ctx.agentHost);
      return 'already_scaled';
    }
    rec.count = want;
    if (ctx.dryRun) {
      markWoken(t, rule, want);
      return 'dry_run';
    }
    const sentAt = process.hrtime.bigint();
    const w = await ctx.scale(rule, t, want, `autostart: ${trig.reason}`, this.meta(trig));
    rec.evalId = w.EvalID;
    rec.timeToScaleCallS = hrSeconds(trig.atNs, sentAt);
    ctx.telemetry.timeToScaleCall(rule, rec.timeToScaleCallS);
    markWoken(t, rule, want);
    if (rule.cfg.wait_for !== 'none') await waitReady(ctx, t, trig, rec, Math.max(status.index, w.Index));
    return 'scaled';
  }

  /** A stopped job: started by re-registering it with Stop=false (check-and-set), when allowed. */
  private async startStopped(t: Target, trig: Trigger, rec: ActionRecord, g: TaskGroupScaleStatus): Promise<Outcome> {
    const ctx = this.ctx;
    const rule = trig.rule;
    if (!rule.cfg.start_stopped) {
      ctx.reports.once(`stopped:${t.key}`, 'info', jobStopped(rule));
      return 'job_stopped';
    }
    const want = Math.max(g.Desired, rule.cfg.count);
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
    const sentAt = process.hrtime.bigint();
    const w = await ctx.call('job register', () =>
      ctx.client.registerJob(spec, { namespace: t.namespace, enforceIndex: true, jobModifyIndex: job.JobModifyIndex ?? 0 }),
    );
    rec.evalId = w.EvalID;
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
    if (rule.cfg.wait_for !== 'none') await waitReady(ctx, t, trig, rec, w.Index);
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
