// The running agent: receivers (probes) → enrichment → pipelines (processors) → telemetry.
// Built from a validated, frozen AgentConfig; reload() swaps in a new one without losing kernel
// state or cumulative counters; stop() releases every kernel object it created.
import { isDeepStrictEqual } from 'node:util';
import type { AgentConfig, ReceiverConfig, ServerConfig } from './config/types';
import { Enricher } from './enrich/enricher';
import { AgentStoppingError, ReceiverStartError } from './errors';
import { rootLogger, setLogLevel } from './log';
import { buildPipelines, type PipelineRunner } from './pipeline/runner';
import type { PipelineEvent } from './pipeline/event';
import type { SynHolds } from './pipeline/processor-context';
import { RECEIVERS } from './components';
import type { ProbeStats, Receiver, ReceiverContext, SharedMaps } from './receivers/receiver';
import type { AgentStatus, ReceiverStatus, ReloadOutcome } from './server/health';
import { ApiServer } from './server/server';
import { EventStore } from './server/store';
import { createTelemetry, type Telemetry, type TelemetryOptions } from './telemetry/sdk';
import pkg from '../package.json';

export type { Receiver };

/** Whether one of these receivers reads the conn probe's owners map (packet_fate). */
function ownersWanted(cfg: AgentConfig, ids: readonly string[]): boolean {
  return ids.some((id) => {
    const rc = cfg.receivers[id];
    return rc !== undefined && RECEIVERS[rc.type].readsSocketOwners === true;
  });
}

export interface RunningAgent {
  readonly config: AgentConfig;
  /** 1 for the configuration the agent started with, +1 per applied reload. */
  readonly generation: number;
  /** events read / lost / undecodable per receiver */
  stats(): Record<string, ProbeStats>;
  /** export what has been aggregated so far (tests, shutdown) */
  flush(): Promise<void>;
  /** Apply a new, already validated configuration (see reload()). */
  reload(next: AgentConfig): Promise<void>;
  /** Remember a reload that was rejected before reaching reload() (an invalid file), for /health. */
  reloadRejected(outcome: ReloadOutcome): void;
  /** What /health and /readyz report. */
  status(): AgentStatus;
  /** The window the query API answers from (undefined while service.server is off). */
  readonly store: EventStore | undefined;
  /** http://host:port of the agent's own server, when it runs. */
  serverUrl(): string | undefined;
  stop(): Promise<void>;
}

export interface AgentOptions {
  telemetry?: TelemetryOptions;
}

const log = rootLogger.child('agent');

function createReceiver(id: string, rc: ReceiverConfig, ctx: ReceiverContext): Receiver {
  // The factory listed under rc.type takes configs of exactly that type (src/components.ts).
  const factory = RECEIVERS[rc.type] as unknown as { create(id: string, rc: ReceiverConfig, ctx: ReceiverContext): Receiver };
  return factory.create(id, rc, ctx);
}

class Agent implements RunningAgent {
  generation = 1;
  private readonly enricher = new Enricher();
  private readonly receivers = new Map<string, { rc: ReceiverConfig; r: Receiver }>();
  /** Receivers stopped by stop(), whose final stats the last export still reports. */
  private readonly retired = new Map<string, Receiver>();
  private readonly receiverStates = new Map<string, ReceiverStatus>();
  private telemetry: Telemetry;
  private runner: PipelineRunner;
  private stopping?: Promise<void>;
  private phase: AgentStatus['phase'] = 'starting';
  private readonly startedAtUnixMs = Date.now();
  private loadedAtUnixMs = Date.now();
  private lastReload?: ReloadOutcome;
  store: EventStore | undefined;
  private server?: ApiServer;

  constructor(
    public config: AgentConfig,
    private readonly opts: AgentOptions,
  ) {
    this.telemetry = createTelemetry(config, this.telemetryOptions(config));
    this.runner = this.pipelines(config);
    this.telemetry.setStatsProvider(() => ({ probes: this.stats() }));
    this.markStarting(this.runner.receivers, config);
  }

  /** The last export may take half the shutdown budget, leaving the rest for detaching. */
  private telemetryOptions(cfg: AgentConfig): TelemetryOptions {
    return { shutdownTimeoutMs: Math.max(1, Math.floor(cfg.service.shutdown_timeout_ms / 2)), ...this.opts.telemetry };
  }

  private markStarting(ids: readonly string[], cfg: AgentConfig): void {
    for (const id of ids) {
      // ids are keys of cfg.receivers (callers take them from it).
      if (!this.receivers.has(id)) this.receiverStates.set(id, { type: cfg.receivers[id]!.type, state: 'starting', sinceUnixMs: Date.now() });
    }
  }

  /** Starts, restarts or stops the server and the event window as service.server says. */
  async applyServer(next: ServerConfig, prev?: ServerConfig): Promise<void> {
    if (next.enabled) {
      if (this.store) this.store.configure(next.window);
      else this.store = new EventStore(next.window);
    }
    const sameListener =
      prev !== undefined && prev.enabled === next.enabled && prev.host === next.host && prev.port === next.port && prev.bearer_token === next.bearer_token;
    if (this.server && sameListener) return;
    if (this.server) {
      await this.server.stop();
      this.server = undefined;
      log.info('server stopped for reload');
    }
    if (!next.enabled) {
      this.store = undefined;
      return;
    }
    const server = new ApiServer(next, { store: this.store!, status: () => this.status(), version: pkg.version, now: Date.now });
    await server.start();
    this.server = server;
    log.info(`serving /livez, /readyz, /health, /api/v1, /openapi.json and /docs at ${server.url()}`, { auth: next.bearer_token ? 'bearer token' : 'none' });
  }

  serverUrl(): string | undefined {
    return this.server?.url();
  }

  status(): AgentStatus {
    const stats = this.stats();
    const receivers: Record<string, ReceiverStatus> = {};
    for (const [id, st] of this.receiverStates) receivers[id] = { ...st, stats: stats[id] };
    return {
      phase: this.phase,
      startedAtUnixMs: this.startedAtUnixMs,
      generation: this.generation,
      source: this.config.source,
      loadedAtUnixMs: this.loadedAtUnixMs,
      lastReload: this.lastReload,
      receivers,
      exporters: this.telemetry.exporterStatus(),
      exportersConstructed: true,
      windows: this.store?.stats(),
      caches: (({ process, cgroup, nomad }) => ({ process, cgroup, nomad }))(this.enricher.stats()),
    };
  }

  reloadRejected(outcome: ReloadOutcome): void {
    this.lastReload = outcome;
  }

  running(): void {
    this.phase = 'running';
  }

  /** Pipelines over the current telemetry; processors may adopt state from `previous` (a reload). */
  private pipelines(cfg: AgentConfig, previous?: PipelineRunner): PipelineRunner {
    return buildPipelines(cfg, {
      exporterSinks: (id) => this.telemetry.sinkFor(id),
      processorContext: (id) => ({
        telemetry: this.telemetry.forProcessor(id),
        previous: previous?.processors.get(id),
        synHolds: () => this.synHolds(),
      }),
    });
  }

  /** Where processors may hold SYNs now: one per running sni receiver. */
  private synHolds(): SynHolds[] {
    const out: SynHolds[] = [];
    for (const { r } of this.receivers.values()) {
      const h = r.synHolds?.();
      if (h) out.push(h);
    }
    return out;
  }

  /** Receivers the pipelines of the current configuration read from. */
  receiverIds(): readonly string[] {
    return this.runner.receivers;
  }

  /** Maps offered by the running receivers (the first offer of each kind wins). */
  private shared(): SharedMaps {
    const out: SharedMaps = {};
    for (const { r } of this.receivers.values()) {
      const m = r.sharedMaps?.();
      if (m?.socketOwners !== undefined) out.socketOwners ??= m.socketOwners;
      if (m?.socketStorage !== undefined) out.socketStorage ??= m.socketStorage;
    }
    return out;
  }

  /**
   * `keepGoing` (reloads): a receiver that fails to start is reported as failed in /health and
   * /readyz and the others still start; at startup the first failure stops the agent.
   */
  startReceivers(ids: readonly string[], cfg: AgentConfig, keepGoing = false): void {
    // Providers of shared maps (connections) first, so that the others can reuse their maps.
    // ids are keys of cfg.receivers (callers take them from it).
    const provides = (id: string): number => Number(RECEIVERS[cfg.receivers[id]!.type].sharesMaps === true);
    const ordered = [...ids].sort((a, b) => provides(b) - provides(a));
    const errors: Error[] = [];
    for (const id of ordered) {
      const rc = cfg.receivers[id]!;
      this.receiverStates.set(id, { type: rc.type, state: 'starting', sinceUnixMs: Date.now() });
      // The runner and the store are looked up per event, so a reload that swaps them reroutes live receivers.
      // The store sees every event before the processors: filters shape exports, not what the host can inspect.
      const dispatch = (ev: PipelineEvent) => {
        this.store?.add(ev);
        this.runner.dispatch(id, ev);
      };
      try {
        const r = createReceiver(id, rc, {
          enricher: this.enricher,
          dispatch,
          shared: () => this.shared(),
          ownersWanted: ownersWanted(cfg, this.runner.receivers),
        });
        r.start();
        this.startedAt.set(r, Date.now());
        this.receivers.set(id, { rc, r });
        this.receiverStates.set(id, { type: rc.type, state: 'attached', sinceUnixMs: Date.now() });
        log.info('receiver started', { receiver: id });
      } catch (e) {
        const err = e as Error;
        this.receiverStates.set(id, { type: rc.type, state: 'failed', sinceUnixMs: Date.now(), error: err.message.split('\n')[0] });
        if (!keepGoing) throw err;
        log.error('receiver could not start', { receiver: id, error: err });
        errors.push(err);
      }
    }
    if (errors.length)
      throw new ReceiverStartError(`${errors.length} receiver(s) could not start: ${errors.map((e) => e.message.split('\n')[0]).join('; ')}`, errors);
  }

  /** Detach a receiver; with `keepStats` its final counts stay in stats() for the last export. */
  private stopReceiver(id: string, keepStats = false): void {
    const entry = this.receivers.get(id);
    if (!keepStats) this.receiverStates.delete(id);
    if (!entry) return;
    if (keepStats) this.retired.set(id, entry.r);
    this.receivers.delete(id);
    try {
      entry.r.stop();
    } catch (e) {
      log.error('stopping receiver failed', { receiver: id, error: e as Error });
    }
  }

  /** Per receiver incarnation: when it started (its counters count from then). */
  private readonly startedAt = new WeakMap<Receiver, number>();

  stats(): Record<string, ProbeStats> {
    const out: Record<string, ProbeStats> = {};
    for (const [id, r] of this.retired) out[id] = { ...r.stats(), startedAtMs: this.startedAt.get(r) };
    for (const [id, { r }] of this.receivers) out[id] = { ...r.stats(), startedAtMs: this.startedAt.get(r) };
    return out;
  }

  flush(): Promise<void> {
    // Receivers hand over what the kernel has for them first (records waiting in a ring, counts in a
    // table), so the export includes everything seen until now.
    for (const [id, { r }] of this.receivers) {
      try {
        r.flush?.();
      } catch (e) {
        log.error('flushing receiver failed', { receiver: id, error: e as Error });
      }
    }
    return this.telemetry.forceFlush();
  }

  /**
   * Receivers whose own settings are unchanged keep running (their kernel objects and maps stay);
   * changed ones are re-attached, removed ones detached. Processors and exporters are rebuilt; the
   * metric tables are carried over so cumulative counters continue, and a processor may adopt
   * the state of its previous instance (nomad_autostart: open connections, woken groups). The old exporters flush once
   * and close before the new ones open (a prometheus exporter may keep its port).
   */
  async reload(next: AgentConfig): Promise<void> {
    if (this.stopping) throw new AgentStoppingError('the agent is stopping');
    this.phase = 'reloading';
    try {
      await this.apply(next);
      this.lastReload = { timeUnixMs: Date.now(), file: next.source, applied: true, problems: [] };
    } catch (e) {
      this.lastReload = { timeUnixMs: Date.now(), file: next.source, applied: false, problems: [(e as Error).message] };
      throw e;
    } finally {
      if (!this.stopping) this.phase = 'running';
    }
  }

  private async apply(next: AgentConfig): Promise<void> {
    const prev = this.config;
    setLogLevel(next.service.telemetry.logs.level);
    const carry = this.telemetry.carryState();
    const oldTelemetry = this.telemetry;
    const oldRunner = this.runner;
    await oldTelemetry.shutdown();
    this.telemetry = createTelemetry(next, { ...this.telemetryOptions(next), carry });
    this.runner = this.pipelines(next, oldRunner);
    this.telemetry.setStatsProvider(() => ({ probes: this.stats() }));
    await oldRunner.shutdown();
    const wanted = new Set(this.runner.receivers);
    let providerRestarted = false;
    // The conn probe fills the owners map only while a packet_fate receiver reads it: a change restarts it.
    const ownersChanged = ownersWanted(prev, [...this.receivers.keys()]) !== ownersWanted(next, [...wanted]);
    for (const [id, { rc, r }] of [...this.receivers]) {
      const nrc = next.receivers[id];
      if (ownersChanged && r.sharedMaps !== undefined) {
        providerRestarted = true;
        this.stopReceiver(id);
        log.info('receiver stopped for reload', { receiver: id });
        continue;
      }
      if (nrc !== undefined && wanted.has(id) && !isDeepStrictEqual(rc, nrc) && r.update?.(nrc) === true) {
        this.receivers.set(id, { rc: nrc, r });
        log.info('receiver updated in place', { receiver: id });
        continue;
      }
      if (!wanted.has(id) || !isDeepStrictEqual(rc, nrc)) {
        providerRestarted ||= r.sharedMaps !== undefined;
        this.stopReceiver(id);
        log.info('receiver stopped for reload', { receiver: id });
      }
    }
    // A probe reusing a map of a restarted provider would keep the old, now unfed map; one started
    // with no provider at all gets the map of a provider this reload adds.
    const providerAdded =
      this.shared().socketOwners === undefined && [...wanted].some((id) => !this.receivers.has(id) && next.receivers[id]?.type === 'connections');
    if (providerRestarted || providerAdded) {
      for (const [id, { r }] of [...this.receivers]) {
        if (!r.usesSharedMaps) continue;
        this.stopReceiver(id);
        log.info('receiver restarted with its map provider', { receiver: id });
      }
    }
    for (const id of [...this.receiverStates.keys()]) if (!wanted.has(id)) this.receiverStates.delete(id);
    // Failures below leave the new configuration in force (its exporters already run), reported in /health.
    this.config = next;
    this.generation++;
    this.loadedAtUnixMs = Date.now();
    let failure: Error | undefined;
    try {
      this.startReceivers(
        [...wanted].filter((id) => !this.receivers.has(id)),
        next,
        true,
      );
    } catch (e) {
      failure = e as Error;
    }
    try {
      await this.applyServer(next.service.server, prev.service.server);
    } catch (e) {
      log.error('the server could not be restarted with the new settings; trying the previous ones', { error: e as Error });
      await this.applyServer(prev.service.server).catch((e2: Error) => log.error('the server stays off', { error: e2 }));
      failure ??= e as Error;
    }
    if (failure) throw failure;
    log.info('configuration reloaded', { generation: this.generation, source: next.source });
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.phase = 'stopping';
      // Receivers keep their final counts, so the last export carries events read and lost.
      for (const id of [...this.receivers.keys()]) this.stopReceiver(id, true);
      await this.runner.shutdown();
      await this.telemetry.shutdown();
      this.enricher.close();
      // Last, so /readyz says 503 "stopping" while the final export runs.
      await this.server?.stop();
      this.server = undefined;
    })();
    return this.stopping;
  }
}

export async function startAgent(cfg: AgentConfig, opts: AgentOptions = {}): Promise<RunningAgent> {
  setLogLevel(cfg.service.telemetry.logs.level);
  const agent = new Agent(cfg, opts);
  try {
    // The server first, so that /readyz answers 503 while the probes attach.
    await agent.applyServer(cfg.service.server);
    agent.startReceivers(agent.receiverIds(), cfg);
    agent.running();
  } catch (e) {
    await agent.stop();
    throw e;
  }
  return agent;
}
