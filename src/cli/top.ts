// `netwatch top`: a live terminal view of a running agent, read from its query API
// (/health, /api/v1/connections/summary, /api/v1/sni/summary), redrawn every interval.
import { Command, Option } from 'commander';
import { formatDuration, parseDuration } from '../config';
import { ConfigError } from '../errors';
import { renderTop, type TopData } from './top-render';

interface TopOptions {
  url: string;
  token?: string;
  interval: string;
  since: string;
  once?: boolean;
  process?: string;
  port?: string;
}

class HttpProblem extends Error {}

async function getJson(url: string, token: string | undefined): Promise<unknown> {
  let r: Response;
  try {
    r = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {}, signal: AbortSignal.timeout(5000) });
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message;
    throw new HttpProblem(`cannot reach the agent at ${new URL(url).origin}: ${cause} (is it running with service.server.enabled? give --url)`);
  }
  if (r.status === 401) throw new HttpProblem('the agent wants a bearer token: give --token or set NETWATCH_API_TOKEN');
  const body = (await r.json()) as { error?: string; problems?: string[] };
  // /health answers 503 with its body while the agent is not ready: still worth showing.
  if (!r.ok && !(r.status === 503 && url.endsWith('/health')))
    throw new HttpProblem(`${r.status} from ${url}: ${body.error ?? ''} ${(body.problems ?? []).join('; ')}`);
  return body;
}

async function fetchAll(o: TopOptions, token: string | undefined): Promise<TopData> {
  const base = o.url.replace(/\/+$/, '');
  const q = new URLSearchParams({ since: o.since });
  if (o.process) q.set('process', o.process);
  if (o.port) q.set('port', o.port);
  const [health, connections, sni] = await Promise.all([
    getJson(`${base}/health`, token),
    getJson(`${base}/api/v1/connections/summary?${q}`, token),
    getJson(`${base}/api/v1/sni/summary?${q}`, token),
  ]);
  const filters = [o.process ? `process=${o.process}` : '', o.port ? `port=${o.port}` : ''].filter(Boolean).join(' ');
  return { url: base, since: o.since, filters, health, connections, sni } as TopData;
}

export function topCommand(): Command {
  return new Command('top')
    .description('a live view of a running agent: connections by process, container, Nomad job and state, SNI names, lost events')
    .addOption(new Option('--url <url>', "the agent's server (service.server)").default('http://127.0.0.1:9465'))
    .addOption(new Option('--token <token>', 'bearer token, if service.server.bearer_token is set').env('NETWATCH_API_TOKEN'))
    .addOption(new Option('-i, --interval <duration>', 'refresh every').default('2s'))
    .addOption(new Option('--since <duration>', 'summarize the events of this last stretch of time').default('5m'))
    .addOption(new Option('--process <names>', 'only these executables (comma-separated, * wildcard)'))
    .addOption(new Option('--port <ports>', 'only connections to these server ports (comma-separated)'))
    .addOption(new Option('--once', 'print one frame and exit (no terminal needed)'))
    .action(async (o: TopOptions) => {
      const intervalMs = parseDuration(o.interval);
      const problems: string[] = [];
      if (intervalMs === undefined || intervalMs < 100)
        problems.push(`--interval: must be a duration of at least 100ms such as 2s, got ${JSON.stringify(o.interval)}`);
      if (parseDuration(o.since) === undefined) problems.push(`--since: must be a duration such as 60s or 5m, got ${JSON.stringify(o.since)}`);
      if (problems.length) throw new ConfigError(problems);
      await runTop(o, intervalMs!);
    });
}

async function runTop(o: TopOptions, intervalMs: number): Promise<void> {
  const token = o.token;
  const out = process.stdout;
  const frame = async (): Promise<string> => {
    try {
      const data = await fetchAll(o, token);
      return renderTop(data, {
        width: out.columns || 120,
        rows: Math.max(3, Math.floor(((out.rows || 40) - 24) / 3)),
        now: new Date(),
        intervalText: formatDuration(intervalMs),
      });
    } catch (e) {
      if (!(e instanceof HttpProblem)) throw e;
      return `netwatch top: ${e.message}\nretrying every ${formatDuration(intervalMs)}; q quits`;
    }
  };
  if (o.once) {
    out.write((await frame()) + '\n');
    return;
  }
  const tty = process.stdin.isTTY === true;
  await new Promise<void>((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    let stopped = false;
    const stop = () => {
      if (stopped) return;
      stopped = true;
      if (timer) clearTimeout(timer);
      if (tty) process.stdin.setRawMode(false);
      process.stdin.pause();
      out.write('\x1b[?25h\n'); // cursor back
      resolve();
    };
    if (tty) process.stdin.setRawMode(true);
    process.stdin.on('data', (k: Buffer) => {
      const key = k.toString();
      if (key === 'q' || key === 'Q' || key === '\x03') stop();
    });
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    const tick = async () => {
      const text = await frame();
      if (stopped) return;
      // Home, clear, hide the cursor: one full redraw per refresh.
      out.write('\x1b[H\x1b[2J\x1b[?25l' + text + '\n');
      timer = setTimeout(() => void tick(), intervalMs);
    };
    void tick();
  });
}
