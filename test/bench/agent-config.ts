// The configuration the workload part runs the agent with: the shipped config/agent.yaml as it is
// — its receivers (the connections settings the targets are about), processors, server
// and pipelines — with three changes a benchmark needs: the pipelines export to the bench's OTLP
// sink instead of a collector and the debug exporter, metrics are exported every second (not
// 10 s) so the counts after a storm arrive soon, and the server listens on a free port so that
// an agent already running on the machine keeps its own.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import { BENCH_SRC } from './paths';

export const SHIPPED_CONFIG = resolve(BENCH_SRC, '../../config/agent.yaml');
export const EXPORT_INTERVAL_MS = 1000;
/** The one exporter of the bench's agent. */
const SINK_EXPORTER = 'otlp_grpc/bench-sink';

export interface AgentConfigOptions {
  /** host:port of the sink's OTLP/gRPC endpoint (plaintext). */
  sinkEndpoint: string;
  /** Port for the agent's server, when the shipped file enables it. */
  serverPort: number;
  /** Overrides the connections receiver's wakeup_bytes (undefined: as shipped). */
  wakeupBytes?: number;
}

type Tree = Record<string, unknown>;
const isTree = (x: unknown): x is Tree => typeof x === 'object' && x !== null && !Array.isArray(x);
const tree = (x: unknown): Tree => (isTree(x) ? x : {});

export function readShippedConfig(): string {
  return readFileSync(SHIPPED_CONFIG, 'utf8');
}

/** The bench's agent.yaml, from the shipped file's text. */
export function agentBenchConfig(shippedText: string, o: AgentConfigOptions): string {
  const shipped = tree(parse(shippedText));
  const receivers = tree(shipped.receivers);
  if (o.wakeupBytes !== undefined) receivers.connections = { ...tree(receivers.connections), wakeup_bytes: o.wakeupBytes };
  const service = tree(shipped.service);
  const pipelines: Tree = {};
  for (const [name, p] of Object.entries(tree(service.pipelines))) pipelines[name] = { ...tree(p), exporters: [SINK_EXPORTER] };
  const telemetry = tree(service.telemetry);
  const server = isTree(service.server) ? { ...service.server, port: o.serverPort } : undefined;
  return stringify({
    receivers,
    ...(shipped.processors === undefined ? {} : { processors: shipped.processors }),
    exporters: { [SINK_EXPORTER]: { endpoint: `http://${o.sinkEndpoint}` } },
    service: {
      ...service,
      ...(server ? { server } : {}),
      pipelines,
      telemetry: { ...telemetry, metrics: { ...tree(telemetry.metrics), export_interval: `${EXPORT_INTERVAL_MS}ms` } },
    },
  });
}
