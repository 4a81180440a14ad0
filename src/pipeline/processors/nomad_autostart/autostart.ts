// The flows of nomad_autostart, one at a time per task group: triggers start wakes (wake.ts), idle
// timers start sleeps (sleep.ts), the start of the agent reads what it woke before (adopt); each
// flow's end puts the group where it learned it is (target.ts) and starts what waits next. At
// start it also learns how to write (write-mode.ts) and, for servers with the check-and-set,
// follows the event stream of each namespace its rules name (event-stream.ts) to keep their jobs
// warm (warm-state.ts); when the cluster decides sleep, it publishes this node's activity
// (activity.ts) for the sleepers of every node (cluster.ts).
import type { NomadAutostartProcessorConfig } from '../../../config/types';
import type { Logger } from '../../../log';
import type { SynHolds } from '../../processor-context';
import { ActivityPublisher, activityWindowMs } from './activity';
import type { NomadClient } from './client';
import { Cluster } from './cluster';
import type { OpenConnections } from './connections';
import { FlowContext } from './context';
import { SynHolding } from './hold';
import { EventStreamFollower } from './event-stream';
import { adopt } from './history';
import type { CompiledRule, TriggerEvent, TriggerKind } from './rules';
import { Sleep } from './sleep';
import type { Flow, Target } from './target';
import type { AutostartTelemetry } from './telemetry';
import { makeTrigger, type Trigger } from './trigger';
import { now } from './clock';
import { Wake } from './wake';
import type { WarmJob } from './warm-state';
import type { WriteMode } from './write-mode';

const SHUTDOWN_WAIT_MS = 2000;

export interface AutostartOptions {
  cfg: NomadAutostartProcessorConfig;
  client: NomadClient;
  telemetry: AutostartTelemetry;
  connections: OpenConnections;
  log: Logger;
  agentHost: string;
  /** The node this agent publishes its activity as (cluster.node, else agentHost). */
  node: string;
  /** Every group the rules name. */
  targets: readonly Target[];
  /** Where SYNs are held (rules with hold_syn): the running sni receivers. */
  synHolds: () => readonly SynHolds[];
}

export class Autostart {
  private readonly inflight = new Set<Promise<void>>();
  private readonly ctx: FlowContext;
  private readonly waker: Wake;
  private readonly sleeper: Sleep;
  private readonly followers: EventStreamFollower[] = [];
  private readonly warmedUp: Promise<void>;
  private readonly holds: SynHolding;

  constructor(o: AutostartOptions) {
    const jobs = new Map<string, { namespace: string; job: string }>();
    for (const t of o.targets) jobs.set(`${t.namespace}\u0000${t.job}`, { namespace: t.namespace, job: t.job });
    this.ctx = new FlowContext(o.cfg, o.client, o.telemetry, o.log, o.agentHost, jobs.values());
    // dry_run writes nothing, so it publishes nothing: its sleeps are judged here alone.
    if (o.cfg.cluster.enabled && !o.cfg.dry_run && o.targets.some((t) => activityWindowMs(t) > 0)) {
      const cluster = new Cluster(this.ctx, o.node);
      cluster.publisher = new ActivityPublisher(this.ctx, cluster, o.targets, o.connections);
      this.ctx.cluster = cluster;
    }
    this.waker = new Wake(this.ctx);
    this.holds = new SynHolding(o.targets, this.ctx, o.synHolds);
    this.sleeper = new Sleep(this.ctx, o.connections, (t, flow, run) => this.run(t, flow, run));
    const byNamespace = new Map<string, string[]>();
    for (const { namespace, job } of jobs.values()) byNamespace.set(namespace, [...(byNamespace.get(namespace) ?? []), job]);
    for (const [namespace, list] of byNamespace) {
      this.followers.push(
        new EventStreamFollower({
          client: o.client,
          namespace,
          jobs: list,
          warm: this.ctx.warm,
          retry: { initialMs: o.cfg.retry.initial_ms, maxMs: o.cfg.retry.max_ms },
          log: o.log,
        }),
      );
    }
    this.warmedUp = this.warmUp();
  }

  /**
   * Learns how to write; with a check-and-set, follows the event streams. A mode from
   * server_version starts them at once, before /v1/agent/self has answered (Nomad may be down).
   */
  private async warmUp(): Promise<void> {
    const ctx = this.ctx;
    const discovering = ctx.version.discover();
    if (ctx.version.mode.kind === 'check-and-set') this.follow(true);
    const mode = await discovering;
    this.follow(mode.kind === 'check-and-set' && !ctx.stopped);
    if (mode.kind === 'check-and-set') await Promise.all(this.followers.map((f) => f.firstSettled));
  }

  private follow(on: boolean): void {
    for (const f of this.followers) {
      if (on) f.start();
      else f.stop();
    }
  }

  /** Resolves once the write mode is known and, with a check-and-set, every namespace's warm state is live (or refused). */
  ready(): Promise<void> {
    return this.warmedUp;
  }

  /** What is known of a job, and whether it is current enough to decide from (tests, benchmarks). */
  warmJob(namespace: string, job: string): { job: WarmJob | undefined; current: boolean } {
    return { job: this.ctx.warm.peek(namespace, job), current: this.ctx.warm.get(namespace, job) !== undefined };
  }

  /** How wakes write now. */
  get writeMode(): WriteMode {
    return this.ctx.version.mode;
  }

  /** Resolves when no flow is under way (tests, benchmarks, shutdown). */
  async settled(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }

  /**
   * A matching event of `rule` for `t`. Synchronous: it starts a flow at most, never waits for
   * one; during a wake it only counts (single-flight), during a cooldown likewise.
   */
  trigger(t: Target, rule: CompiledRule, kind: TriggerKind, ev: TriggerEvent, atNs: bigint): void {
    const at = now();
    t.lastTriggerMs = at;
    t.lastActivityMs = at;
    this.ctx.cluster?.publisher?.touch(t);
    if (this.ctx.stopped) return;
    this.holds.triggered(t, rule);
    if (t.busy === 'wake') return;
    if (t.busy !== undefined) {
      // A sleep or a start-up read is under way: wake as soon as it ends.
      t.pendingWake ??= makeTrigger(rule, kind, ev, atNs);
      return;
    }
    if (at < t.cooldownUntil) return;
    this.wake(t, makeTrigger(rule, kind, ev, atNs));
  }

  /** A wake flow; its end tells a SYN hold whether something is being placed. */
  private wake(t: Target, trig: Trigger): void {
    this.run(t, 'wake', async () => this.holds.wakeEnded(t, await this.waker.run(t, trig)));
  }

  /** Starts a flow of `t` if none is under way; when it ends, the group leaves its flow state and what waits runs. */
  private run(t: Target, kind: Flow, flow: () => Promise<void>): void {
    if (!t.begin(kind)) {
      this.ctx.log.error(`unexpected: a ${kind} of ${t.label} while ${t.state.kind}; skipped`);
      return;
    }
    const p: Promise<void> = flow()
      .catch((e) => this.ctx.log.error(`unexpected failure in the ${kind} of ${t.label}`, { error: e as Error }))
      .finally(() => {
        t.end();
        this.afterFlow(t);
        this.inflight.delete(p);
      });
    this.inflight.add(p);
  }

  /** After any flow: a trigger that came during a sleep wakes now; else the idle clock runs. */
  private afterFlow(t: Target): void {
    if (this.ctx.stopped) return;
    const next = t.pendingWake;
    t.pendingWake = undefined;
    if (next) {
      this.wake(t, next);
      return;
    }
    this.sleeper.arm(t);
  }

  /** Open connections to the ports of the rule that woke `t`. */
  openConnections(t: Target): number {
    return this.sleeper.openConnections(t);
  }

  /** (Re)arms the idle timer of `t` (after a reload hands over what it woke). */
  armSleep(t: Target): void {
    this.sleeper.arm(t);
  }

  /** The last open connection to a port closed: the idle clock of the groups watching it starts now. */
  connectionsClosed(targets: readonly Target[]): void {
    this.sleeper.connectionsClosed(targets);
    this.ctx.cluster?.publisher?.changed();
  }

  /** The first connection to a port opened: the groups watching it are active on this node. */
  connectionsOpened(targets: readonly Target[]): void {
    const publisher = this.ctx.cluster?.publisher;
    if (publisher) for (const t of targets) publisher.touch(t);
  }

  /** Starts publishing this node's activity; `resume`: after a restart, not a reload. */
  publishActivity(resume: boolean): void {
    this.ctx.cluster?.publisher?.start(resume);
  }

  /** At start (not after a reload, which carries this over): find the idle-tracked groups that are up. */
  adoptAtStart(targets: readonly Target[]): void {
    const ctx = this.ctx;
    for (const t of targets) {
      if (!t.rules.some((r) => r.cfg.idle_after_ms > 0)) continue;
      this.run(t, 'adopt', async () => {
        try {
          const s = await ctx.client.jobScaleStatus(t.job, t.namespace);
          const g = s.value.TaskGroups[t.group];
          if (g && !s.value.JobStopped) adopt(t, g, ctx.wakers());
        } catch (e) {
          if (ctx.stopped) return;
          ctx.unadopted.add(t);
          ctx.log.debug(`could not read ${t.label} at start; it is adopted when a trigger next finds it up`, { error: e as Error });
        }
      });
    }
  }

  async shutdown(targets: Iterable<Target>): Promise<void> {
    this.ctx.stop();
    this.holds.shutdown();
    this.ctx.cluster?.publisher?.stop();
    for (const f of this.followers) f.stop();
    for (const t of targets) {
      if (t.sleepTimer) clearTimeout(t.sleepTimer);
      t.sleepTimer = undefined;
    }
    await this.ctx.client.destroy().catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.settled(), new Promise<void>((r) => (timer = setTimeout(r, SHUTDOWN_WAIT_MS)))]);
    clearTimeout(timer);
  }
}
