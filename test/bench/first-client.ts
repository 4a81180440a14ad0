// Benchmark: the first client of a sleeping job, with `hold_syn` and without. The agent (sni
// receiver on the host-side veth of a namespace made here, nomad_autostart against the Nomad API
// double) wakes the group on the client's SYN; the bench plays the Nomad client that places the
// allocation: an HTTP listener starts `placement` ms after the scale call. The client is curl in
// the namespace, one attempt, `--connect-timeout 15`; its time to first byte is what a user's
// first request costs. Without the hold the first request is refused (counted, no time).
//
//   node dist/test/bench/first-client.js [--runs 3] [--placements 0,500,1500]
import { execFile } from 'node:child_process';
import * as http from 'node:http';
import { startAgent } from '../../src/agent';
import { parseConfig } from '../../src/config';
import { setLogSink } from '../../src/log';
import { createContainerNetns, type ContainerNetns } from '../helpers/container-netns';
import { NO_DEPLOYMENTS, NomadDouble, rawCall } from '../helpers/nomad';

export interface FirstClientRun {
  hold: boolean;
  placementMs: number;
  /** curl's exit code: 0 answered, 7 refused, 28 timed out. */
  code: number;
  /** Time to first byte (ms) when answered. */
  ttfbMs?: number;
}

const PORT = 15_380;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function yaml(d: NomadDouble, net: ContainerNetns, hold: boolean): string {
  return `
receivers:
  sni:
    interfaces: [${net.hostIf}]
    ports: [${PORT}]
    poll_interval: 5ms
processors:
  nomad_autostart:
    address: ${d.url}
    rules:
      - name: first
        match: { syn_to_port: ${PORT} }
        job: web
        group: web
        wait_for: none
        cooldown: 100ms
        hold_syn: ${hold}
exporters:
  debug:
    verbosity: basic
service:
  pipelines:
    metrics:
      receivers: [sni]
      processors: [nomad_autostart]
      exporters: [debug]
  telemetry:
    metrics:
      export_interval: 60s
`;
}

function curl(net: ContainerNetns): Promise<{ code: number; ttfbS: number }> {
  return new Promise((resolve) => {
    execFile(
      'ip',
      ['netns', 'exec', net.ns, 'curl', '-s', '-o', '/dev/null', '--connect-timeout', '15', '-w', '%{time_starttransfer}', `http://${net.host4}:${PORT}/`],
      { encoding: 'utf8' },
      (err, stdout) => resolve({ code: err ? ((err as { code?: number }).code ?? -1) : 0, ttfbS: Number(stdout) }),
    );
  });
}

/** One agent (with or without the hold), `runs` first clients per placement delay. */
export async function runFirstClientBench(opts: { hold: boolean; placements: readonly number[]; runs: number }): Promise<FirstClientRun[]> {
  setLogSink(() => undefined);
  const net = createContainerNetns('nwbf', 242);
  const d = await NomadDouble.start({ pendingDelayMs: 20 });
  d.addJob({ ID: 'web', Update: NO_DEPLOYMENTS, TaskGroups: [{ Name: 'web', Count: 0 }] });
  const agent = await startAgent(parseConfig(yaml(d, net, opts.hold), 'first-client.yaml', {}));
  const out: FirstClientRun[] = [];
  try {
    for (let i = 0; i < opts.runs; i++) {
      for (const placementMs of opts.placements) {
        // The group at 0 and nothing listening; the agent hears of it on the event stream and arms the port.
        await rawCall(d.url, 'POST', '/v1/job/web/scale', { body: { Count: 0, Target: { Group: 'web' }, Message: 'bench reset' } });
        await sleep(1000);
        const scalesBefore = d.requests().filter((r) => r.method === 'POST' && r.path === '/v1/job/web/scale').length;
        const result = curl(net);
        let server: http.Server | undefined;
        const placed = (async () => {
          for (let t = 0; t < 5000; t += 5) {
            const posts = d.requests().filter((r) => r.method === 'POST' && r.path === '/v1/job/web/scale');
            if (posts.length > scalesBefore) {
              await sleep(Math.max(0, posts[posts.length - 1]!.at + placementMs - Date.now()));
              server = http.createServer((_q, res) => res.end('ok'));
              await new Promise<void>((r) => server!.listen(PORT, net.host4, r));
              return;
            }
            await sleep(5);
          }
        })();
        const r = await result;
        await placed;
        await new Promise<void>((r2) => (server ? server.close(() => r2()) : r2()));
        out.push({ hold: opts.hold, placementMs, code: r.code, ...(r.code === 0 ? { ttfbMs: r.ttfbS * 1000 } : {}) });
      }
    }
  } finally {
    await agent.stop();
    await d.stop();
    net.remove();
  }
  return out;
}

export function formatFirstClient(runs: readonly FirstClientRun[]): string {
  const lines = ['first client of a sleeping job (curl --connect-timeout 15, one attempt)', 'hold_syn  placement  answered  ttfb ms (min / median / max)'];
  const keys = [...new Set(runs.map((r) => `${r.hold}\u0000${r.placementMs}`))];
  for (const k of keys) {
    const [hold, placement] = k.split('\u0000');
    const rs = runs.filter((r) => String(r.hold) === hold && String(r.placementMs) === placement);
    const t = rs.flatMap((r) => (r.ttfbMs === undefined ? [] : [r.ttfbMs])).sort((a, b) => a - b);
    const fig = t.length ? `${t[0]!.toFixed(0)} / ${t[Math.floor((t.length - 1) / 2)]!.toFixed(0)} / ${t[t.length - 1]!.toFixed(0)}` : '-';
    lines.push(`${hold.padEnd(8)}  ${`${placement} ms`.padEnd(9)}  ${`${t.length}/${rs.length}`.padEnd(8)}  ${fig}`);
  }
  return lines.join('\n');
}

if (require.main === module) {
  const arg = (name: string, def: string): string => {
    const i = process.argv.indexOf(name);
    return i > 0 ? process.argv[i + 1]! : def;
  };
  const runs = Number(arg('--runs', '3'));
  const placements = arg('--placements', '0,500,1500').split(',').map(Number);
  void (async () => {
    const all = [...(await runFirstClientBench({ hold: true, placements, runs })), ...(await runFirstClientBench({ hold: false, placements, runs }))];
    process.stdout.write(formatFirstClient(all) + '\n');
  })();
}
