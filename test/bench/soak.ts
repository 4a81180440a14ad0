// npm run soak: the collector goes away and comes back, again and again, while traffic flows — the
// two-minute outage of test/e2e/collector-outage.test.ts, ten times in one agent's life. Each round
// prints what the traffic made, what reached the collector, what was counted as dropped, and the
// agent's memory, so a slow leak shows as a trend. Needs root (the agent loads its probes).
// NETWATCH_SOAK_ROUNDS (10) and NETWATCH_SOAK_OUTAGE_MS (120000) change the shape.
import { RunningCli } from '../helpers/cli';
import { outageConfig, rssBytes } from '../helpers/outage';
import { OtlpSink } from '../helpers/otlp-sink';
import { runTraffic, startTraffic, stopChild } from '../helpers/processes';

const ROUNDS = Number(process.env.NETWATCH_SOAK_ROUNDS ?? 10);
const OUTAGE_MS = Number(process.env.NETWATCH_SOAK_OUTAGE_MS ?? 120_000);
/** Connections per traffic burst; one burst every half second. */
const BURST = 20;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mib = (b: number) => (b / 2 ** 20).toFixed(1);

async function main(): Promise<void> {
  const sink = await OtlpSink.start();
  const server = await startTraffic('nw-soak-srv', 'tcp-server', ['127.0.0.1']);
  const port = server.info.port as number;
  const agent = RunningCli.start(['run', '-c', outageConfig(sink.grpcEndpoint, port)]);
  const opened = () => sink.sumOf('netwatch.connection.opened', { 'server.port': port, 'netwatch.connection.direction': 'outbound' });
  const records = () => sink.logs().filter((r) => r.attributes['server.port'] === port).length;
  // Given up, counted once each: turned away before the exporter, or by it (no room to keep it, or pushed out after a failure).
  const givenUp = (metric: string) =>
    sink.sumOf(metric, { 'otel.component.name': 'otlp_grpc' }) - sink.sumOf(metric, { 'otel.component.name': 'otlp_grpc', 'error.type': undefined });
  const dropped = () => givenUp('otel.sdk.processor.log.processed') + givenUp('otel.sdk.exporter.log.exported');
  let made = 0;
  let failed = 0;
  try {
    await agent.waitFor(/running/);
    console.log(`soak: ${ROUNDS} rounds, outage ${OUTAGE_MS / 1000} s each`);
    console.log('round  connections  exported  records  dropped  rss_before  rss_peak  rss_after (MiB)');
    for (let round = 1; round <= ROUNDS; round++) {
      const rssBefore = rssBytes(agent.pid);
      let rssPeak = rssBefore;
      sink.down();
      const end = Date.now() + OUTAGE_MS;
      while (Date.now() < end) {
        await runTraffic('nw-soak-cli', 'tcp-clients', ['127.0.0.1', port, BURST]);
        made += BURST;
        rssPeak = Math.max(rssPeak, rssBytes(agent.pid));
        await sleep(500);
      }
      await sink.up();
      // Kept log records are retried on a backoff of up to 30 s: the round ends when the agent says it got through.
      const recovered = () => (agent.output.match(/is reachable again/g)?.length ?? 0) >= round;
      await sink.waitFor(() => opened() === made && recovered(), 90_000).catch(() => undefined);
      await sleep(3000);
      const exact = opened() === made;
      if (!exact) failed++;
      console.log(
        `${String(round).padStart(5)}  ${String(made).padStart(11)}  ${String(opened()).padStart(8)}${exact ? ' ' : '!'} ${String(records()).padStart(7)}  ${String(dropped()).padStart(7)}  ` +
          `${mib(rssBefore).padStart(10)}  ${mib(rssPeak).padStart(8)}  ${mib(rssBytes(agent.pid)).padStart(9)}`,
      );
    }
    const warnings = agent.output.match(/cannot reach/g)?.length ?? 0;
    const recoveries = agent.output.match(/is reachable again/g)?.length ?? 0;
    console.log(`soak: ${failed} rounds with a wrong count; ${warnings} warnings and ${recoveries} recovery lines for ${ROUNDS} outages`);
    process.exitCode = failed ? 1 : 0;
  } finally {
    await agent.stop('SIGTERM');
    await stopChild(server);
    await sink.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
