// The running agent: receivers (probes) → enrichment → pipelines (processors) → telemetry.
// Built from a validated, frozen AgentConfig; stop() releases every kernel object it created.
import type { AgentConfig, ReceiverConfig } from './config/types';
import { Enricher } from './enrich/enricher';
import { rootLogger, setLogLevel } from './log';
import { buildPipelines } from './pipeline/runner';
import type { PipelineEvent } from './pipeline/event';
import { ConnectionsReceiver } from './probes/conn/receiver';
import type { ProbeStats } from './probes/conn/probe';
import { createTelemetry, type TelemetryOptions } from './telemetry/sdk';

export interface Receiver {
  readonly id: string;
  start(): void;
  stats(): ProbeStats;
  stop(): void;
}

export interface RunningAgent {
  readonly config: AgentConfig;
  /** events read / lost / undecodable per receiver */
  stats(): Record<string, ProbeStats>;
  /** export what has been aggregated so far (tests, shutdown) */
  flush(): Promise<void>;
  stop(): Promise<void>;
}

export interface AgentOptions {
  telemetry?: TelemetryOptions;
}

const log = rootLogger.child('agent');

function createReceiver(id: string, rc: ReceiverConfig, enricher: Enricher, dispatch: (ev: PipelineEvent) => void): Receiver {
  switch (rc.type) {
    case 'connections':
      return new ConnectionsReceiver(id, rc, enricher, dispatch);
    default: {
      const unknown: never = rc.type;
      throw new Error(`receiver ${id}: unknown type ${String(unknown)}`);
    }
  }
}

export async function startAgent(cfg: AgentConfig, opts: AgentOptions = {}): Promise<RunningAgent> {
  setLogLevel(cfg.service.telemetry.logs.level);
  const telemetry = createTelemetry(cfg, opts.telemetry);
  const enricher = new Enricher();
  const runner = buildPipelines(cfg, { exporterSinks: (id) => telemetry.sinkFor(id) });
  const receivers: Receiver[] = [];
  const stopAll = async () => {
    for (const r of receivers.splice(0)) {
      try {
        r.stop();
      } catch (e) {
        log.error('stopping receiver failed', { receiver: r.id, error: e as Error });
      }
    }
    await runner.shutdown();
    await telemetry.shutdown();
    enricher.close();
  };
  try {
    for (const id of runner.receivers) {
      const r = createReceiver(id, cfg.receivers[id], enricher, (ev) => runner.dispatch(id, ev));
      r.start();
      receivers.push(r);
      log.info('receiver started', { receiver: id });
    }
  } catch (e) {
    await stopAll();
    throw e;
  }
  const stats = () => Object.fromEntries(receivers.map((r) => [r.id, r.stats()]));
  telemetry.setStatsProvider(() => ({ probes: stats(), exports: {} }));
  let stopping: Promise<void> | undefined;
  return {
    config: cfg,
    stats,
    flush: () => telemetry.forceFlush(),
    stop: () => (stopping ??= stopAll()),
  };
}
