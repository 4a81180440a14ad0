// The running agent: receivers (probes) → enrichment → pipelines (processors) → telemetry.
// Built from a validated, frozen AgentConfig; reload() swaps in a new one without losing kernel
// state or cumulative counters; stop() releases every kernel object it created.
import { isDeepStrictEqual } from 'node:util';
import type { AgentConfig, ReceiverConfig } from './config/types';
import { Enricher } from './enrich/enricher';
import { rootLogger, setLogLevel } from './log';
import { buildPipelines, type PipelineRunner } from './pipeline/runner';
import { ConnectionsReceiver } from './probes/conn/receiver';
import { PacketFateReceiver } from './probes/packet_fate/receiver';
import { SniReceiver } from './probes/sni/receiver';
import type { ProbeStats, Receiver, ReceiverContext, SharedMaps } from './probes/receiver';
import { createTelemetry, type Telemetry, type TelemetryOptions } from './telemetry/sdk';

export type { Receiver };

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
  stop(): Promise<void>;
}

export interface AgentOptions {
  telemetry?: TelemetryOptions;
}

const log = rootLogger.child('agent');

function createReceiver(id: string, rc: ReceiverConfig, ctx: ReceiverContext): Receiver {
  switch (rc.type) {
    case 'connections':
      return new ConnectionsReceiver(id, rc, ctx);
    case 'sni':
      return new SniReceiver(id, rc, ctx);
    case 'packet_fate':
      return new PacketFateReceiver(id, rc, ctx);
    default: {
      const unknown: never = rc;
      throw new Error(`receiver ${id}: unknown type ${String((unknown as ReceiverConfig).type)}`);
    }
  }
}

class Agent implements RunningAgent {
  generation = 1;
  private readonly enricher = new Enricher();
  private readonly receivers = new Map<string, { rc: ReceiverConfig; r: Receiver }>();
  private telemetry: Telemetry;
  private runner: PipelineRunner;
  private stopping?: Promise<void>;

  constructor(public config: AgentConfig, private readonly opts: AgentOptions) {
    this.telemetry = createTelemetry(config, opts.telemetry);
    this.runner = this.pipelines(config);
    this.telemetry.setStatsProvider(() => ({ probes: this.stats(), exports: {} }));
  }

  /** Pipelines over the current telemetry; processors may adopt state from `previous` (a reload). */
  private pipelines(cfg: AgentConfig, previous?: PipelineRunner): PipelineRunner {
    return buildPipelines(cfg, {
      exporterSinks: (id) => this.telemetry.sinkFor(id),
      processorContext: (id) => ({ telemetry: this.telemetry.forProcessor(id), previous: previous?.processors.get(id) }),
    });
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
    }
    return out;
  }

  startReceivers(ids: readonly string[], cfg: AgentConfig): void {
    // Providers of shared maps (connections) first, so that the others can reuse their maps.
    const ordered = [...ids].sort((a, b) => Number(cfg.receivers[b].type === 'connections') - Number(cfg.receivers[a].type === 'connections'));
    for (const id of ordered) {
      const rc = cfg.receivers[id];
      // The runner is looked up per event, so a reload that swaps it reroutes live receivers.
      const r = createReceiver(id, rc, { enricher: this.enricher, dispatch: (ev) => this.runner.dispatch(id, ev), shared: () => this.shared() });
      r.start();
      this.receivers.set(id, { rc, r });
      log.info('receiver started', { receiver: id });
    }
  }

  private stopReceiver(id: string): void {
    const entry = this.receivers.get(id);
    if (!entry) return;
    this.receivers.delete(id);
    try {
      entry.r.stop();
    } catch (e) {
      log.error('stopping receiver failed', { receiver: id, error: e as Error });
    }
  }

  stats(): Record<string, ProbeStats> {
    return Object.fromEntries([...this.receivers].map(([id, { r }]) => [id, r.stats()]));
  }

  flush(): Promise<void> {
    // Receivers that count in the kernel hand over their counts first, so the export includes them.
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
    if (this.stopping) throw new Error('the agent is stopping');
    setLogLevel(next.service.telemetry.logs.level);
    const carry = this.telemetry.carryState();
    const oldTelemetry = this.telemetry;
    const oldRunner = this.runner;
    await oldTelemetry.shutdown();
    this.telemetry = createTelemetry(next, { ...this.opts.telemetry, carry });
    this.runner = this.pipelines(next, oldRunner);
    this.telemetry.setStatsProvider(() => ({ probes: this.stats(), exports: {} }));
    await oldRunner.shutdown();
    const wanted = new Set(this.runner.receivers);
    let providerRestarted = false;
    for (const [id, { rc, r }] of [...this.receivers]) {
      const nrc = next.receivers[id];
      if (wanted.has(id) && !isDeepStrictEqual(rc, nrc) && r.update?.(nrc) === true) {
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
    // A probe reusing a map of a restarted provider would keep the old, now unfed map.
    if (providerRestarted) {
      for (const [id, { r }] of [...this.receivers]) {
        if (!r.usesSharedMaps) continue;
        this.stopReceiver(id);
        log.info('receiver restarted with its map provider', { receiver: id });
      }
    }
    this.startReceivers([...wanted].filter((id) => !this.receivers.has(id)), next);
    this.config = next;
    this.generation++;
    log.info('configuration reloaded', { generation: this.generation, source: next.source });
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      for (const id of [...this.receivers.keys()]) this.stopReceiver(id);
      await this.runner.shutdown();
      await this.telemetry.shutdown();
      this.enricher.close();
    })();
    return this.stopping;
  }
}

export async function startAgent(cfg: AgentConfig, opts: AgentOptions = {}): Promise<RunningAgent> {
  setLogLevel(cfg.service.telemetry.logs.level);
  const agent = new Agent(cfg, opts);
  try {
    agent.startReceivers(agent.receiverIds(), cfg);
  } catch (e) {
    await agent.stop();
    throw e;
  }
  return agent;
}
