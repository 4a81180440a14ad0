// Follows Nomad's event stream for one namespace — the Job and Deployment topics of the rules'
// jobs only — and keeps warm state (warm-state.ts) current: events are applied as they come,
// and after every (re)connection each job is read once (GET /v1/job/:job), because the stream
// cannot say what it missed. It resumes from the index after the last batch it saw; an index the
// servers no longer keep starts at their oldest batch without an error (nomad/stream/
// event_buffer.go StartAtClosest), a slow subscriber is dropped by the broker and reconnects, so
// a gap is only ever found by reading, which every reconnect does.
//
// Wire format (hashicorp/nomad command/agent/event_endpoint.go, nomad/event_endpoint.go,
// nomad/stream/ndjson.go): ndjson; the first line is a heartbeat `{}` sent once the subscription
// exists, then one every 30 s; a batch is {"Index": n, "Events": [...]} with the events of one Raft
// index. A stream silent for HEARTBEAT_TIMEOUT_MS is dead (a connection lost without a FIN) and is
// dropped. A topic key cannot contain ':' (parseTopic splits on it): a job whose ID has one is
// followed through the whole topic, filtered here.
import type { Logger } from '../../../log';
import { cannotReadJobs } from './advice';
import { Backoff } from './backoff';
import { nomadErrorOf, tagged } from './calls';
import type { NomadClient, StreamBatch, StreamEvent } from './client';
import type { WarmState } from './warm-state';

/** Nomad heartbeats every 30 s (nomad/event_endpoint.go NewJsonStream(ctx, 30*time.Second)); two missed and a half: dead. */
export const HEARTBEAT_TIMEOUT_MS = 75_000;

/** Where a follower stands. `live`: connected, and every job read since it connected. */
export type FollowerState = 'connecting' | 'syncing' | 'live' | 'forbidden' | 'stopped';

export interface FollowerOptions {
  client: NomadClient;
  namespace: string;
  jobs: readonly string[];
  warm: WarmState;
  retry: { initialMs: number; maxMs: number };
  log: Logger;
  heartbeatTimeoutMs?: number;
}

export class EventStreamFollower {
  private current: FollowerState = 'connecting';
  private running = false;
  private stopped = false;
  private controller: AbortController | undefined;
  private wake: (() => void) | undefined;
  /** The index of the newest batch seen, or of the reads that resynced: the next connection resumes after it. */
  private lastIndex = 0;
  private readonly topics: string[];
  private readonly heartbeatTimeoutMs: number;
  private settledOnce: (() => void) | undefined;
  /** Resolves the first time the follower is live, or cannot be (refused, stopped). */
  readonly firstSettled: Promise<void>;
  /** Connections made, for tests and benchmarks. */
  connections = 0;

  constructor(private readonly o: FollowerOptions) {
    this.heartbeatTimeoutMs = o.heartbeatTimeoutMs ?? HEARTBEAT_TIMEOUT_MS;
    const wildcard = o.jobs.some((j) => j.includes(':'));
    this.topics = wildcard ? ['Job', 'Deployment'] : o.jobs.flatMap((j) => [`Job:${j}`, `Deployment:${j}`]);
    this.firstSettled = new Promise((resolve) => (this.settledOnce = resolve));
  }

  get state(): FollowerState {
    return this.current;
  }

  /** Starts following (once; a stopped follower stays stopped). */
  start(): void {
    if (this.running || this.stopped) return;
    this.running = true;
    void this.loop();
  }

  stop(): void {
    this.stopped = true;
    this.set('stopped');
    this.controller?.abort();
    this.wake?.();
  }

  private set(state: FollowerState): void {
    this.current = state;
    if (state === 'live' || state === 'forbidden' || state === 'stopped') {
      this.settledOnce?.();
      this.settledOnce = undefined;
    }
  }

  private async loop(): Promise<void> {
    const backoff = new Backoff(this.o.retry.initialMs, this.o.retry.maxMs);
    while (!this.stopped) {
      const wasLive = await this.follow();
      this.o.warm.setLive(this.o.namespace, false);
      if (this.stopped) break;
      if (this.current !== 'forbidden') this.set('connecting');
      if (wasLive) backoff.reset();
      // Refused: the token may be given read-job later; ask again at the slowest pace.
      await this.pause(this.current === 'forbidden' ? this.o.retry.maxMs : backoff.next());
    }
    this.o.warm.setLive(this.o.namespace, false);
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }

  /** One connection, from its request to its end; whether it was live. */
  private async follow(): Promise<boolean> {
    const { client, namespace, warm, log } = this.o;
    const controller = new AbortController();
    this.controller = controller;
    let wasLive = false;
    let watchdog: NodeJS.Timeout | undefined;
    const alive = (): void => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => controller.abort(), this.heartbeatTimeoutMs);
    };
    try {
      const res = await tagged('event stream', () =>
        client.eventStream({ namespace, topics: this.topics, index: this.lastIndex > 0 ? this.lastIndex + 1 : 0, signal: controller.signal }),
      );
      this.connections++;
      this.set('connecting');
      alive();
      let buffered = '';
      let first = true;
      let resync: Promise<void> | undefined;
      for await (const chunk of res.body) {
        alive();
        buffered += chunk.toString('utf8');
        let nl: number;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, nl).trim();
          buffered = buffered.slice(nl + 1);
          if (line === '') continue;
          let batch: StreamBatch;
          try {
            batch = JSON.parse(line) as StreamBatch;
          } catch {
            // Skipping a line would skip its events: drop the connection; the next one reads every job again.
            log.debug(`the event stream of namespace ${namespace} sent a line that is not JSON; reconnecting`);
            controller.abort();
            break;
          }
          this.apply(batch);
          if (first) {
            // The first line (a heartbeat) means the subscription exists, read-job allowed: reading now misses nothing.
            first = false;
            if (!warm.readable(namespace)) log.info(`the token may now read the jobs of namespace ${namespace}: following their event stream`);
            warm.setReadable(namespace, true);
            this.set('syncing');
            resync = this.resync(controller).then((ok) => {
              if (!ok || controller.signal.aborted) return;
              warm.setLive(namespace, true);
              wasLive = true;
              this.set('live');
            });
          }
        }
      }
      // The server ended the stream: a read still under way must not make it live.
      controller.abort();
      await resync;
    } catch (e) {
      const err = nomadErrorOf(e);
      if (err?.kind === 'forbidden') {
        if (warm.readable(namespace)) log.info(cannotReadJobs(namespace));
        warm.setLive(namespace, false);
        warm.setReadable(namespace, false);
        this.set('forbidden');
      } else if (!this.stopped && !controller.signal.aborted) {
        log.debug(`the event stream of namespace ${namespace} ended; reconnecting`, { error: e as Error });
      }
    } finally {
      clearTimeout(watchdog);
      controller.abort();
    }
    return wasLive;
  }

  /** Reads every job once; false (and the connection dropped) when a read failed. */
  private async resync(controller: AbortController): Promise<boolean> {
    const { client, namespace, warm, log } = this.o;
    try {
      const indexes = await Promise.all(
        this.o.jobs.map(async (job) => {
          try {
            const r = await client.readJob(job, namespace);
            const index = r.value.ModifyIndex ?? r.index;
            warm.job(namespace, r.value, index, 'read');
            return index;
          } catch (e) {
            const err = nomadErrorOf(e);
            if (err?.kind !== 'not_found') throw e;
            const index = err.index ?? 0;
            warm.missing(namespace, job, index);
            return index;
          }
        }),
      );
      // Every event after these reads has a newer index than the job it concerns had when read.
      if (indexes.length > 0) this.lastIndex = Math.max(this.lastIndex, Math.min(...indexes));
      return true;
    } catch (e) {
      if (!controller.signal.aborted) log.debug(`could not read the jobs of namespace ${namespace} after connecting; reconnecting`, { error: e as Error });
      controller.abort();
      return false;
    }
  }

  /** A line of the stream: a heartbeat, or a batch of events. */
  private apply(b: StreamBatch): void {
    if (typeof b.Index !== 'number' || !b.Events) return;
    for (const e of b.Events) this.event(e);
    this.lastIndex = Math.max(this.lastIndex, b.Index);
  }

  private event(e: StreamEvent): void {
    const { namespace, warm } = this.o;
    if (e.Namespace !== namespace) return;
    const p = e.Payload;
    if (e.Topic === 'Job') {
      if (!warm.tracks(namespace, e.Key)) return;
      if (p?.Deleted === true || !p?.Job) warm.missing(namespace, e.Key, e.Index);
      else warm.job(namespace, p.Job, e.Index, 'event');
    } else if (e.Topic === 'Deployment' && p?.Deployment) {
      warm.deployment(namespace, p.Deployment.JobID, p.Deployment);
    }
  }
}
