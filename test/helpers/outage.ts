// What the collector-outage test and the soak script share: the agent's config (only the test's
// port, so the agent's own reconnects do not blur exact counts) and its resident memory.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Resident set size of `pid` in bytes (VmRSS). */
export const rssBytes = (pid: number): number => Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;

/** An agent.yaml in a temporary directory: connections on `port` only, metrics and logs to the sink's gRPC endpoint. */
export function outageConfig(grpcEndpoint: string, port: number): string {
  const file = join(mkdtempSync(join(tmpdir(), 'nw-outage-')), 'agent.yaml');
  writeFileSync(
    file,
    `receivers:
  connections:
    seed_existing: false
    interval: 500ms               # the kernel's counts read at least once per export
processors:
  filter/port:
    include:
      - ports: [${port}]
exporters:
  otlp_grpc:
    endpoint: http://${grpcEndpoint}
    timeout: 2s
service:
  pipelines:
    metrics:
      receivers: [connections]
      processors: [filter/port]
      exporters: [otlp_grpc]
    logs:
      receivers: [connections]
      processors: [filter/port]
      exporters: [otlp_grpc]
  telemetry:
    metrics:
      export_interval: 1s
`,
  );
  return file;
}
