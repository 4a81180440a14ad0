// What the wake and sleep flows share: the settings, the Nomad client, telemetry and logs, the
// report-once keys, what is known of the jobs (warm state) and of the servers (how to write),
// waits that shutdown cuts short, and the scale call counted by its answer.
import type { NomadAutostartProcessorConfig } from '../../../config/types';
import type { Logger } from '../../../log';
import { cannotReadJobs, type NomadCall } from './advice';
import { CallError, tagged } from './calls';
import type { Cluster } from './cluster';
import type { JobWriteResponse, NomadClient } from './client';
import { FAILED_OUTCOMES } from './outcomes';
import { Reports } from './reports';
import type { CompiledRule } from './rules';
import type { Wakers } from './history';
import type { Target } from './target';
import type { ActionRecord, AutostartTelemetry } from './telemetry';
import { WarmState, type WarmJob } from './warm-state';
import { ServerVersion } from './write-mode';

export class FlowContext {
  /** Set once at shutdown: flows end at their next step, waits end at once. */
  stopped = false;
  readonly reports: Reports;
  readonly dryRun: boolean;
  /** The rules' jobs as the event stream and this agent's own reads and writes tell them. */
  readonly warm: WarmState;
  /** How a wake writes: one check-and-set, or read then write (by the servers' version). */
  readonly version: ServerVersion;
  /** Groups whose read at start failed: whether this agent woke them is read from Nomad's history when they are next found up. */
  readonly unadopted = new Set<Target>();
  /** Set when sleep is decided for the cluster (cluster.enabled, not dry_run, some rule with idle_after). */
  cluster: Cluster | undefined;
  private readonly delays = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();

  constructor(
    readonly cfg: NomadAutostartProcessorConfig,
    readonly client: NomadClient,
    readonly telemetry: AutostartTelemetry,
    readonly log: Logger,
    readonly agentHost: string,
    jobs: Iterable<{ namespace: string; job: string }>,
  ) {
    this.dryRun = cfg.dry_run;
    this.reports = new Reports(log);
    this.warm = new WarmState(jobs);
    this.version = new ServerVersion(this, cfg.server_version);
  }

  /** Whose wakes make a group this agent's to put to sleep: any netwatch agent's while the cluster decides sleep, else its own. */
  wakers(): Wakers {
    return this.cluster?.coordinating ? 'cluster' : { host: this.agentHost };
  }

  /** Whether a flow of `t` decides from warm state and writes with a check-and-set; else it reads the scale status first. */
  checkAndSet(t: Target): boolean {
    return this.version.mode.kind === 'check-and-set' && this.warm.readable(t.namespace);
  }

  /** Tags a failure with the call it came from, for the advice. */
  call<T>(what: NomadCall, fn: () => Promise<T>): Promise<T> {
    return tagged(what, fn);
  }

  /**
   * GET /v1/job/:job into warm state: before a decision when warm state is not current (after a
   * conflict, a reconnect). `unreadable` when the token may not read jobs there (read-job): the
   * flow then reads the scale status instead, as the namespace's later flows do.
   */
  async readJob(t: Target): Promise<WarmJob | 'unreadable'> {
    let r;
    try {
      r = await this.call('job read', () => this.client.readJob(t.job, t.namespace));
    } catch (e) {
      if (!(e instanceof CallError) || e.error.kind !== 'forbidden') throw e;
      this.jobsUnreadable(t.namespace);
      return 'unreadable';
    }
    const index = r.value.ModifyIndex ?? r.index;
    this.warm.job(t.namespace, r.value, index, 'read');
    return this.warm.peek(t.namespace, t.job) ?? { kind: 'missing', index };
  }

  /** The token cannot read the namespace's jobs: said once, and its flows read the scale status from now on. */
  jobsUnreadable(namespace: string): void {
    if (!this.warm.readable(namespace)) return;
    this.warm.setReadable(namespace, false);
    this.log.info(cannotReadJobs(namespace));
  }

  /** POST /v1/job/:job/scale, counted by the answer's status; `jobModifyIndex` makes it a check-and-set. */
  async scale(
    rule: CompiledRule,
    t: Target,
    count: number | null,
    message: string,
    meta: Record<string, unknown>,
    jobModifyIndex?: number,
  ): Promise<JobWriteResponse> {
    try {
      const w = await this.call('scale', () => this.client.scale(t.job, t.group, count, message, meta, t.namespace, { jobModifyIndex }));
      this.telemetry.scaleCall(rule, 200, undefined);
      return w;
    } catch (e) {
      if (e instanceof CallError) this.telemetry.scaleCall(rule, e.error.status, e.error.kind);
      throw e;
    }
  }

  /** A wait that shutdown cuts short. */
  delay(ms: number): Promise<void> {
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

  /** Shutdown: every flow stops at its next step, every wait ends now. */
  stop(): void {
    this.stopped = true;
    for (const d of this.delays) {
      clearTimeout(d.timer);
      d.resolve();
    }
    this.delays.clear();
  }

  /** One line per wake or sleep; failures at debug, since their cause is reported once on its own. */
  logAction(t: Target, r: ActionRecord): void {
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
}
