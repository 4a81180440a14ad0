// The wake and sleep flows of nomad_autostart, one at a time per task group. A wake reads the
// group's scale status and raises its count when it is below the rule's (never lowering what
// someone else set), or starts a stopped job when the rule allows it, then waits for readiness
// with blocking queries. A sleep scales an idle group this agent woke back to 0. Nomad's answers
// are classified: an active deployment is waited out, 5xx/timeouts/connection errors are retried
// with capped backoff, ACL and policy errors are reported once with the fix.
import { NomadError } from '../../../errors';
import type { NomadAutostartProcessorConfig } from '../../../config/types';
import type { Logger } from '../../../log';
import { forbidden, groupNotFound, jobNotFound, jobStopped, type NomadCall, policyViolation, registrationDisabled, validationFailed } from './advice';
import { Backoff } from './backoff';
import { ACTIVE_DEPLOYMENT_STATUSES, type JobWriteResponse, type NomadClient, type NomadJob, type TaskGroupScaleStatus } from './client';
import type { OpenConnections } from './connections';
import { FAILED_OUTCOMES, type Outcome } from './outcomes';
import { Reports } from './reports';
import type { CompiledRule, TriggerEvent, TriggerKind } from './rules';
import type { Flow, Target } from './target';
import type { ActionRecord, AutostartTelemetry } from './telemetry';
import { makeTrigger, type Trigger } from './trigger';
import { CallError, nomadErrorOf, progressDeadline } from './calls';
import { formatMs, hrSeconds, now } from './clock';

/** Keys written into the Meta of the scaling events the agent records. */
export const META = {
  TRIGGER: 'netwatch.trigger',
  REASON: 'netwatch.reason',
  RULE: 'netwatch.rule',
  AGENT_HOST: 'netwatch.agent.host',
  /** Only on event-only records (a started job): the count the start set. */
  COUNT: 'netwatch.count',
} as const;

/** Longest single blocking query while waiting (Nomad caps them at 5 minutes). */
const MAX_BLOCK_MS = 60_000;
const SHUTDOWN_WAIT_MS = 2000;

export interface AutostartOptions {
  cfg: NomadAutostartProcessorConfig;
  client: NomadClient;
  telemetry: AutostartTelemetry;
  connections: OpenConnections;
  log: Logger;
  agentHost: string;
}

/** `conflict`: another writer changed the job first (check-and-set): read again and decide again. */
type Step = Outcome | 'retry' | 'deployment' | 'conflict';

/** Conflicts in a row decided again at once; more than this and the next attempt waits a backoff step. */
const IMMEDIATE_REDECISIONS = 3;

export class Autostart {
  private stopped = false;
  private readonly inflight = new Set<Promise<void>>();
  private readonly delays = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  private readonly reports: Reports;
  private readonly client: NomadClient;
  private readonly telemetry: AutostartTelemetry;
  private readonly log: Logger;
  private readonly dryRun: boolean;

  constructor(private readonly o: AutostartOptions) {
    this.client = o.client;
    this.telemetry = o.telemetry;
    this.log = o.log;
    this.dryRun = o.cfg.dry_run;
    this.reports = new Reports(o.log);
  }

  /** Resolves when no flow is under way (tests, benchmarks, shutdown). */
  async settled(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }

  // ---- triggers ----------------------------------------------------------------------------

  /**
   * A matching event of `rule` for `t`. Synchronous: it starts a flow at most, never waits for
   * one; during a wake it only counts (single-flight), during a cooldown likewise.
   */
  trigger(t: Target, rule: CompiledRule, kind: TriggerKind, ev: TriggerEvent, atNs: bigint): void {
    const at = now();
    t.lastTriggerMs = at;
    t.lastActivityMs = at;
    if (this.stopped || t.busy === 'wake') return;
    if (t.busy !== undefined) {
      // A sleep or a start-up read is under way: wake as soon as it ends.
      t.pendingWake ??= makeTrigger(rule, kind, ev, atNs);
      return;
    }
    if (at < t.cooldownUntil) return;
    const trig = makeTrigger(rule, kind, ev, atNs);
    this.run(t, 'wake', () => this.wake(t, trig));
  }

  private run(t: Target, kind: Flow, flow: () => Promise<void>): void {
    if (!t.begin(kind)) {
      this.log.error(`unexpected: a ${kind} of ${t.label} while ${t.state.kind}; skipped`);
      return;
    }
    const p: Promise<void> = flow()
      .catch((e) => this.log.error(`unexpected failure in the ${kind} of ${t.label}`, { error: e as Error }))
      .finally(() => this.inflight.delete(p));
    this.inflight.add(p);
  }

  /** After any flow: a trigger that came during a sleep wakes now; else the idle clock runs. */
  private afterFlow(t: Target): void {
    if (this.stopped) return;
    const next = t.pendingWake;
    t.pendingWake = undefined;
    if (next) {
      this.run(t, 'wake', () => this.wake(t, next));
      return;
    }
    this.armSleep(t);
  }

  // ---- wake --------------------------------------------------------------------------------

  private async wake(t: Target, trig: Trigger): Promise<void> {
    const rule = trig.rule;
    const rec: ActionRecord = {
      event: 'wake',
      rule,
      trigger: trig.kind,
      reason: trig.reason,
      outcome: 'failed',
      clientAddress: trig.clientAddress,
      serverPort: trig.serverPort,
      dryRun: this.dryRun,
    };
    try {
      const end = await this.retrying(t, rule, 'wake', rec, () => this.wakeOnce(t, trig, rec), {
        gaveUp: () => this.gaveUp(t),
        onGiveUp: (why) =>
          this.log.warn(
            why === 'deployment'
              ? `gave up waking ${t.label}: its deployment was still active after ${formatMs(this.o.cfg.retry.give_up_after_ms)}`
              : `gave up waking ${t.label}: Nomad kept failing and no matching traffic came for ${formatMs(this.o.cfg.retry.give_up_after_ms)}`,
            { rule: rule.name },
          ),
      });
      rec.outcome = end === 'aborted' ? 'cancelled' : end;
    } finally {
      t.end();
      t.cooldownUntil = now() + rule.cfg.cooldown_ms;
      this.telemetry.outcome('wake', rule, rec.outcome);
      if (rec.outcome !== 'already_scaled' && rec.outcome !== 'cancelled') {
        this.telemetry.emit(rec);
        this.logAction(t, rec);
      }
      this.afterFlow(t);
    }
  }

  /**
   * The retry loop wake and sleep share: one attempt at a time, Nomad's answers sorted by
   * `attempt`; a check-and-set conflict is decided again at once (with backoff after a few in a
   * row), an active deployment waited out, a failure retried with capped backoff until `gaveUp`.
   */
  private async retrying<O extends string>(
    t: Target,
    rule: CompiledRule,
    action: 'wake' | 'sleep',
    rec: ActionRecord,
    once: () => Promise<O>,
    o: { proceed?: () => 'aborted' | undefined; gaveUp: () => boolean; onGiveUp: (why: 'deployment' | 'retry') => void },
  ): Promise<O | Outcome | 'aborted'> {
    const backoff = new Backoff(this.o.cfg.retry.initial_ms, this.o.cfg.retry.max_ms);
    let conflicts = 0;
    for (;;) {
      if (this.stopped) return 'cancelled';
      const stop = o.proceed?.();
      if (stop) return stop;
      const step = await this.attempt(t, rule, action, rec, once);
      switch (step) {
        case 'conflict':
          if (++conflicts > IMMEDIATE_REDECISIONS) await this.delay(backoff.next());
          continue;
        case 'deployment':
          if (await this.waitForDeployment(t, rule)) continue;
          if (this.stopped) return 'cancelled';
          o.onGiveUp('deployment');
          return 'failed';
        case 'retry':
          if (o.gaveUp()) {
            o.onGiveUp('retry');
            return 'failed';
          }
          await this.delay(backoff.next());
          continue;
        default:
          return step;
      }
    }
  }

  private gaveUp(t: Target): boolean {
    return now() - t.lastTriggerMs > this.o.cfg.retry.give_up_after_ms;
  }

  private async wakeOnce(t: Target, trig: Trigger, rec: ActionRecord): Promise<Outcome> {
    const rule = trig.rule;
    const status = await this.call('scale status', () => this.client.jobScaleStatus(t.job, t.namespace));
    this.reports.clear(`not_found:${t.key}`);
    const g = status.value.TaskGroups[t.group];
    if (!g) {
      this.reports.once(`group:${t.key}`, 'warn', groupNotFound(rule, Object.keys(status.value.TaskGroups)));
      return 'group_not_found';
    }
    this.reports.clear(`group:${t.key}`);
    rec.previousCount = g.Desired;
    if (status.value.JobStopped) return this.startStopped(t, trig, rec, g);
    this.reports.clear(`stopped:${t.key}`);
    const want = rule.cfg.count;
    if (g.Desired >= want) {
      // A scale request of this wake timed out, yet Nomad took it: the wake did happen.
      if (rec.count !== undefined && this.wokenBy(g) === rule.name) {
        this.markWoken(t, rule, want);
        if (rule.cfg.wait_for !== 'none') await this.waitReady(t, trig, rec, status.index);
        return 'scaled';
      }
      this.adopt(t, g);
      return 'already_scaled';
    }
    rec.count = want;
    if (this.dryRun) {
      this.markWoken(t, rule, want);
      return 'dry_run';
    }
    const sentAt = process.hrtime.bigint();
    const w = await this.scale(rule, t, want, `autostart: ${trig.reason}`, this.meta(trig));
    rec.evalId = w.EvalID;
    rec.timeToScaleCallS = hrSeconds(trig.atNs, sentAt);
    this.telemetry.timeToScaleCall(rule, rec.timeToScaleCallS);
    this.markWoken(t, rule, want);
    if (rule.cfg.wait_for !== 'none') await this.waitReady(t, trig, rec, Math.max(status.index, w.Index));
    return 'scaled';
  }

  /** A stopped job: started by re-registering it with Stop=false (check-and-set), when allowed. */
  private async startStopped(t: Target, trig: Trigger, rec: ActionRecord, g: TaskGroupScaleStatus): Promise<Outcome> {
    const rule = trig.rule;
    if (!rule.cfg.start_stopped) {
      this.reports.once(`stopped:${t.key}`, 'info', jobStopped(rule));
      return 'job_stopped';
    }
    const want = Math.max(g.Desired, rule.cfg.count);
    rec.count = want;
    if (this.dryRun) {
      this.markWoken(t, rule, want);
      return 'dry_run';
    }
    const read = await this.call('job read', () => this.client.readJob(t.job, t.namespace));
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
    const w = await this.call('job register', () =>
      this.client.registerJob(spec, { namespace: t.namespace, enforceIndex: true, jobModifyIndex: job.JobModifyIndex ?? 0 }),
    );
    rec.evalId = w.EvalID;
    rec.timeToScaleCallS = hrSeconds(trig.atNs, sentAt);
    this.telemetry.timeToScaleCall(rule, rec.timeToScaleCallS);
    this.markWoken(t, rule, want);
    // Registering writes no scaling event; an event without a count records the start in the group's history.
    try {
      await this.scale(rule, t, null, `autostart: started the stopped job: ${trig.reason}`, { ...this.meta(trig), [META.COUNT]: want });
    } catch (e) {
      if (this.stopped) throw e;
      this.log.warn(`started ${t.label}, but recording it in Nomad's scaling history failed`, { rule: rule.name, error: e as Error });
    }
    if (rule.cfg.wait_for !== 'none') await this.waitReady(t, trig, rec, w.Index);
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
    const versions = await this.call('job read', () => this.client.jobVersions(t.job, t.namespace));
    const before = versions.value.Versions.find((v) => v.Stop !== true);
    for (const tg of before?.TaskGroups ?? []) if (tg.Scaling) out.set(tg.Name, tg.Scaling.Enabled !== false);
    return out;
  }

  /** Waits (blocking queries on the scale status) until `count` allocations are running or healthy, or the rule's wait_timeout. */
  private async waitReady(t: Target, trig: Trigger, rec: ActionRecord, index: number): Promise<void> {
    const cfg = trig.rule.cfg;
    const want = rec.count ?? cfg.count;
    const deadline = now() + cfg.wait_timeout_ms;
    const backoff = new Backoff(this.o.cfg.retry.initial_ms, this.o.cfg.retry.max_ms);
    let idx = Math.max(1, index);
    rec.ready = false;
    while (!this.stopped) {
      const left = deadline - now();
      if (left <= 0) break;
      try {
        const s = await this.client.jobScaleStatus(t.job, t.namespace, { index: idx, waitMs: Math.min(left, MAX_BLOCK_MS) });
        const g = s.value.TaskGroups[t.group];
        const have = g === undefined ? 0 : cfg.wait_for === 'healthy' ? g.Healthy : g.Running;
        if (have >= want) {
          rec.ready = true;
          rec.timeToReadyS = hrSeconds(trig.atNs, process.hrtime.bigint());
          this.telemetry.timeToReady(trig.rule, rec.timeToReadyS);
          return;
        }
        // An answer without a newer index came back early: pause, so a misbehaving server is not polled hot.
        if (s.index <= idx) await this.delay(backoff.next());
        else backoff.reset();
        idx = Math.max(idx, s.index);
      } catch (e) {
        if (this.stopped || !nomadErrorOf(e)?.retryable) break;
        await this.delay(backoff.next());
      }
    }
    if (!this.stopped) {
      this.log.warn(`${t.label} was scaled but is not ${cfg.wait_for} with ${want} allocation${want === 1 ? '' : 's'} after ${formatMs(cfg.wait_timeout_ms)}`, {
        rule: trig.rule.name,
      });
    }
  }

  /**
   * Blocking queries on the job's latest deployment until it is no longer active; false when
   * giving up. Nomad ends a deployment itself once its progress deadline passes without an
   * allocation turning healthy (RequireProgressBy), so the wait lasts at least that long (plus a
   * grace for the deployment watcher), and at least `give_up_after`.
   */
  private async waitForDeployment(t: Target, rule: CompiledRule): Promise<boolean> {
    this.reports.once(
      `deployment:${t.key}`,
      'info',
      `${t.label} has an active deployment, which blocks count changes; waiting for it to end, then checking again`,
      { rule: rule.name },
    );
    let deadline = now() + this.o.cfg.retry.give_up_after_ms;
    const backoff = new Backoff(this.o.cfg.retry.initial_ms, this.o.cfg.retry.max_ms);
    let index = 1;
    while (!this.stopped && now() < deadline) {
      try {
        const d = await this.call('deployment read', () =>
          this.client.latestDeployment(t.job, t.namespace, { index, waitMs: Math.min(deadline - now(), MAX_BLOCK_MS) }),
        );
        if (d.value === null || !ACTIVE_DEPLOYMENT_STATUSES.has(d.value.Status)) {
          this.reports.clear(`deployment:${t.key}`);
          return true;
        }
        deadline = Math.max(deadline, progressDeadline(d.value));
        if (d.index <= index) await this.delay(backoff.next());
        index = Math.max(index, d.index);
      } catch (e) {
        // Anything else shows again (and is classified) when the wake checks the status.
        if (this.stopped || !nomadErrorOf(e)?.retryable) return !this.stopped;
        await this.delay(backoff.next());
      }
    }
    return false;
  }

  // ---- sleep -------------------------------------------------------------------------------

  /** Open connections to the ports of the rule that woke `t`. */
  openConnections(t: Target): number {
    if (!t.woken) return 0;
    let n = 0;
    for (const p of t.woken.rule.idlePorts) n += this.o.connections.open(p);
    return n;
  }

  private idleFor(t: Target): number {
    return now() - t.lastActivityMs;
  }

  private isIdle(t: Target): boolean {
    return t.woken !== undefined && this.openConnections(t) === 0 && this.idleFor(t) >= t.woken.rule.cfg.idle_after_ms - 1;
  }

  /** (Re)arms the idle timer; it checks again when it fires, so later activity only pushes the sleep back. */
  armSleep(t: Target): void {
    if (this.stopped || !t.woken || t.woken.rule.disabled || t.sleepBlocked || t.sleepTimer || t.busy) return;
    const due = t.lastActivityMs + t.woken.rule.cfg.idle_after_ms - now();
    t.sleepTimer = setTimeout(
      () => {
        t.sleepTimer = undefined;
        this.onIdleTimer(t);
      },
      Math.max(0, Math.ceil(due)),
    );
    t.sleepTimer.unref();
  }

  /** The last open connection to `port` closed: the idle clock of the groups watching it starts now. */
  connectionsClosed(targets: readonly Target[]): void {
    const at = now();
    for (const t of targets) {
      if (!t.woken) continue;
      t.lastActivityMs = Math.max(t.lastActivityMs, at);
      this.armSleep(t);
    }
  }

  private onIdleTimer(t: Target): void {
    if (this.stopped || !t.woken || t.woken.rule.disabled || t.busy || t.sleepBlocked) return;
    // Open connections: the timer is armed again when the last one closes.
    if (this.openConnections(t) > 0) return;
    if (!this.isIdle(t)) {
      this.armSleep(t);
      return;
    }
    this.run(t, 'sleep', () => this.sleep(t));
  }

  private async sleep(t: Target): Promise<void> {
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
      dryRun: this.dryRun,
      idleForS: this.idleFor(t) / 1000,
    };
    const started = now();
    let aborted = false;
    try {
      const end = await this.retrying(t, rule, 'sleep', rec, () => this.sleepOnce(t, rule, rec), {
        // Traffic came meanwhile: the sleep is off, with nothing to report.
        proceed: () => (this.isIdle(t) ? undefined : 'aborted'),
        gaveUp: () => now() - started > this.o.cfg.retry.give_up_after_ms,
        // Stays woken: another idle period later, it tries again.
        onGiveUp: () => {
          t.lastActivityMs = now();
        },
      });
      if (end === 'aborted') {
        aborted = true;
        return;
      }
      rec.outcome = end;
      if (end === 'policy_violation' || end === 'bad_request') t.blockSleep();
      else if (end !== 'forbidden' && end !== 'failed' && end !== 'cancelled') t.fellAsleep();
    } finally {
      t.end();
      if (!aborted) {
        this.telemetry.outcome('sleep', rule, rec.outcome);
        if (rec.outcome !== 'cancelled') {
          this.telemetry.emit(rec);
          this.logAction(t, rec);
        }
      }
      this.afterFlow(t);
    }
  }

  private async sleepOnce(t: Target, rule: CompiledRule, rec: ActionRecord): Promise<Outcome | 'aborted'> {
    const status = await this.call('scale status', () => this.client.jobScaleStatus(t.job, t.namespace));
    const g = status.value.TaskGroups[t.group];
    if (!g) {
      this.reports.once(`group:${t.key}`, 'warn', groupNotFound(rule, Object.keys(status.value.TaskGroups)));
      return 'group_not_found';
    }
    rec.previousCount = g.Desired;
    if (g.Desired === 0 || status.value.JobStopped) return 'already_zero';
    if (!this.dryRun && rule.cfg.idle_scale_down === 'woken' && this.wokenBy(g) !== rule.name) return 'changed_elsewhere';
    // Traffic may have come while Nomad answered.
    if (!this.isIdle(t)) return 'aborted';
    if (this.dryRun) return 'dry_run';
    const w = await this.scale(rule, t, 0, `autostart: ${rec.reason}`, {
      [META.TRIGGER]: 'idle',
      [META.REASON]: rec.reason,
      [META.RULE]: rule.name,
      [META.AGENT_HOST]: this.o.agentHost,
    });
    rec.evalId = w.EvalID;
    return 'scaled_down';
  }

  // ---- what this agent woke --------------------------------------------------------------

  /**
   * The rule of this agent that set the group's current count, read from Nomad's own scaling
   * history (newest first): so a restarted or reloaded agent still knows what it woke.
   */
  wokenBy(g: TaskGroupScaleStatus): string | undefined {
    for (const e of g.Events) {
      const meta = e.Meta ?? {};
      const mine = meta[META.AGENT_HOST] === this.o.agentHost;
      if (e.Count === null && !mine) continue; // someone else's note, not a count change
      if (!mine || typeof meta[META.RULE] !== 'string') return undefined;
      const count = e.Count ?? Number(meta[META.COUNT]);
      return count === g.Desired ? (meta[META.RULE] as string) : undefined;
    }
    return undefined;
  }

  private markWoken(t: Target, rule: CompiledRule, count: number): void {
    if (rule.cfg.idle_after_ms <= 0) return;
    t.wokeUp({ rule, count });
    t.lastActivityMs = now();
  }

  /** A group found up: tracked for sleep when this agent woke it, or when a rule puts any group to sleep. */
  adopt(t: Target, g: TaskGroupScaleStatus): void {
    if (t.woken || g.Desired <= 0) return;
    const by = this.wokenBy(g);
    const rule =
      t.rules.find((r) => r.cfg.idle_after_ms > 0 && r.name === by) ?? t.rules.find((r) => r.cfg.idle_after_ms > 0 && r.cfg.idle_scale_down === 'any');
    if (!rule) return;
    t.wokeUp({ rule, count: g.Desired });
    t.lastActivityMs = Math.max(t.lastActivityMs, now());
  }

  /** At start (not after a reload, which carries this over): find the idle-tracked groups that are up. */
  adoptAtStart(targets: readonly Target[]): void {
    for (const t of targets) {
      if (!t.rules.some((r) => r.cfg.idle_after_ms > 0)) continue;
      this.run(t, 'adopt', async () => {
        try {
          const s = await this.client.jobScaleStatus(t.job, t.namespace);
          const g = s.value.TaskGroups[t.group];
          if (g && !s.value.JobStopped) this.adopt(t, g);
        } catch (e) {
          if (!this.stopped) this.log.debug(`could not read ${t.label} at start; it is adopted on its next trigger`, { error: e as Error });
        } finally {
          t.end();
          this.afterFlow(t);
        }
      });
    }
  }

  // ---- Nomad calls and their errors --------------------------------------------------------

  private meta(trig: Trigger): Record<string, unknown> {
    return { [META.TRIGGER]: trig.kind, [META.REASON]: trig.reason, [META.RULE]: trig.rule.name, [META.AGENT_HOST]: this.o.agentHost };
  }

  /** POST /v1/job/:job/scale, counted by the answer's status. */
  private async scale(rule: CompiledRule, t: Target, count: number | null, message: string, meta: Record<string, unknown>): Promise<JobWriteResponse> {
    try {
      const w = await this.call('scale', () => this.client.scale(t.job, t.group, count, message, meta, t.namespace));
      this.telemetry.scaleCall(rule, 200, undefined);
      return w;
    } catch (e) {
      if (e instanceof CallError) this.telemetry.scaleCall(rule, e.error.status, e.error.kind);
      throw e;
    }
  }

  /** Tags a failure with the call it came from, for the advice. */
  private async call<T>(what: NomadCall, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof NomadError) throw new CallError(what, e);
      throw e;
    }
  }

  /** One attempt of a flow, with Nomad's refusals sorted as the issue asks. */
  private async attempt<O extends string>(t: Target, rule: CompiledRule, action: 'wake' | 'sleep', rec: ActionRecord, fn: () => Promise<O>): Promise<O | Step> {
    try {
      const out = await fn();
      if (this.reports.clear('unreachable')) this.log.info('Nomad answers again');
      if (this.reports.clear('registration_disabled')) this.log.info('Nomad accepts scaling again');
      return out;
    } catch (e) {
      if (this.stopped) return 'cancelled';
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
          this.reports.once(`forbidden:${rule.name}`, 'error', forbidden(rule, e.call));
          return 'forbidden';
        case 'not_found':
          this.reports.once(`not_found:${key}`, 'warn', jobNotFound(rule));
          return 'job_not_found';
        case 'policy_violation':
          this.reports.once(`policy:${action}:${key}`, 'error', policyViolation(rule, err.body ?? err.message, action));
          return 'policy_violation';
        case 'bad_request':
          this.reports.once(`bad_request:${action}:${key}`, 'error', `Nomad refused the ${e.call} of ${t.label} for rule ${rule.name}: ${err.message}`);
          return 'bad_request';
        case 'group_not_found':
          this.reports.once(`group:${key}`, 'warn', groupNotFound(rule, []));
          return 'group_not_found';
        case 'conflict':
          rec.status = undefined;
          // Not a failure: another writer (an agent on another node, an operator) changed the job first.
          return 'conflict';
        case 'validation':
          // Asking again gets the same answer: reported once, not retried.
          this.reports.once(`validation:${action}:${key}`, 'error', validationFailed(rule, e.call, err.body ?? err.message));
          return 'bad_request';
        case 'registration_disabled':
          this.reports.once('registration_disabled', 'warn', registrationDisabled(rule, formatMs(this.o.cfg.retry.max_ms)));
          return 'retry';
        case 'server':
        case 'timeout':
        case 'connection':
        case 'tls':
          this.reports.once(
            'unreachable',
            'warn',
            `Nomad ${err.kind === 'server' ? 'failed' : 'could not be reached'} (${err.message}); retrying with backoff (at most every ${formatMs(this.o.cfg.retry.max_ms)})`,
            { rule: rule.name },
          );
          return 'retry';
      }
    }
  }

  /** One line per wake or sleep; failures at debug, since their cause is reported once on its own. */
  private logAction(t: Target, r: ActionRecord): void {
    const level = FAILED_OUTCOMES.has(r.outcome) || r.outcome === 'job_stopped' ? 'debug' : 'info';
    const what =
      r.outcome === 'dry_run'
        ? `dry run: would ${r.event === 'wake' ? (r.previousCount !== undefined && r.count !== undefined ? `scale ${t.label} from ${r.previousCount} to ${r.count}` : `wake ${t.label}`) : `scale ${t.label} from ${r.previousCount} to 0`}`
        : `${r.event} ${t.label}: ${r.outcome}`;
    this.log.log(level, what, {
      rule: r.rule.name,
      reason: r.reason,
      count: r.count,
      previous: r.previousCount,
      eval: r.evalId || undefined,
      to_scale_call_ms: r.timeToScaleCallS === undefined ? undefined : Math.round(r.timeToScaleCallS * 1e6) / 1e3,
      to_ready_ms: r.timeToReadyS === undefined ? undefined : Math.round(r.timeToReadyS * 1e3),
      ready: r.ready,
    });
  }

  // ---- time and shutdown -------------------------------------------------------------------

  /** A wait that shutdown cuts short. */
  private delay(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const entry = {
        timer: setTimeout(() => {
          this.delays.delete(entry);
          resolve();
        }, ms),
        resolve,
      };
      this.delays.add(entry);
    });
  }

  async shutdown(targets: Iterable<Target>): Promise<void> {
    this.stopped = true;
    for (const t of targets) {
      if (t.sleepTimer) clearTimeout(t.sleepTimer);
      t.sleepTimer = undefined;
    }
    for (const d of this.delays) {
      clearTimeout(d.timer);
      d.resolve();
    }
    this.delays.clear();
    await this.client.destroy().catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.settled(), new Promise<void>((r) => (timer = setTimeout(r, SHUTDOWN_WAIT_MS)))]);
    clearTimeout(timer);
  }
}
