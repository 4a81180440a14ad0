// Builds the pipelines of service.pipelines and routes each receiver's events through them:
// processors in order, then the pipeline's sink. Synchronous and allocation-free per event.
import type { AgentConfig, ProcessorConfig } from '../config/types';
import { InternalError } from '../errors';
import { NO_PROCESSOR_TELEMETRY } from './processor-telemetry';
import type { EventSink, PipelineEvent, Processor } from './event';
import type { ProcessorContext } from './processor-context';
import { createProcessor as defaultCreateProcessor } from './processors/registry';

export interface PipelineRunnerOptions {
  /** Sink at the end of a pipeline (its exporters), by pipeline id (`metrics`, `logs/verbose`). */
  exporterSinks: (pipelineId: string) => EventSink;
  /** Defaults to the processor registry. */
  createProcessor?: (cfg: ProcessorConfig, ctx: ProcessorContext) => Processor;
  /** What each processor is built with (its telemetry, its previous instance); default: no telemetry. */
  processorContext?: (processorId: string) => ProcessorContext;
}

export interface PipelineRunner {
  /** Send one event from `receiverId` through every pipeline that lists it. */
  dispatch(receiverId: string, ev: PipelineEvent): void;
  /** One instance per processor id, shared by every pipeline that names it. */
  readonly processors: ReadonlyMap<string, Processor>;
  /** Receivers that feed at least one pipeline. */
  readonly receivers: readonly string[];
  shutdown(): Promise<void>;
}

/**
 * A processor's verdict is remembered for the event being dispatched, so a processor named by
 * two pipelines (say metrics and logs) sees each event once, not once per pipeline: a stateful
 * processor such as nomad_autostart must not count the same connection twice.
 */
interface Stage {
  readonly processor: Processor;
  seenDispatch: number;
  verdict: boolean;
}

interface Route {
  readonly stages: readonly Stage[];
  readonly sink: EventSink;
}

export function buildPipelines(cfg: AgentConfig, opts: PipelineRunnerOptions): PipelineRunner {
  const create = opts.createProcessor ?? defaultCreateProcessor;
  const contextFor = opts.processorContext ?? ((): ProcessorContext => ({ telemetry: NO_PROCESSOR_TELEMETRY }));
  const stages = new Map<string, Stage>();
  const routes = new Map<string, Route[]>();

  // Unlike the collector (one processor instance per pipeline), netwatch shares one instance per
  // id: nomad_autostart holds per-job state and scales jobs; two copies would both act.
  const stageFor = (id: string): Stage => {
    let stage = stages.get(id);
    if (!stage) {
      const pcfg = cfg.processors[id];
      if (!pcfg) throw new InternalError(`pipeline names processor ${id}, which is not configured`);
      stage = { processor: create(pcfg, contextFor(id)), seenDispatch: 0, verdict: true };
      stages.set(id, stage);
    }
    return stage;
  };

  for (const p of cfg.service.pipelines) {
    const route: Route = { stages: p.processors.map(stageFor), sink: opts.exporterSinks(p.id) };
    for (const r of p.receivers) {
      const list = routes.get(r) ?? [];
      list.push(route);
      routes.set(r, list);
    }
  }

  let dispatchNo = 0;
  return {
    dispatch(receiverId, ev) {
      const list = routes.get(receiverId);
      if (list === undefined) return;
      const no = ++dispatchNo;
      for (let r = 0; r < list.length; r++) {
        // r and s below are in range (for loops to length).
        const route = list[r]!;
        let keep = true;
        for (let s = 0; s < route.stages.length; s++) {
          const stage = route.stages[s]!;
          if (stage.seenDispatch !== no) {
            stage.seenDispatch = no;
            stage.verdict = stage.processor.process(ev);
          }
          if (!stage.verdict) {
            keep = false;
            break;
          }
        }
        if (keep) route.sink.consume(ev);
      }
    },
    processors: new Map([...stages].map(([id, s]) => [id, s.processor])),
    receivers: [...routes.keys()],
    async shutdown() {
      await Promise.all([...stages.values()].map(async (s) => s.processor.shutdown?.()));
    },
  };
}
