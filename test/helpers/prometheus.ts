// A real Prometheus server (Debian's `prometheus` package) for tests: started on loopback with a
// generated scrape config and a temporary storage directory, queried through its HTTP API, stopped after.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports';

export interface PromSample {
  metric: Record<string, string>;
  value: number;
}

export class PrometheusServer {
  private output = '';

  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
    private readonly dir: string,
  ) {
    child.stdout!.on('data', (d) => (this.output += d));
    child.stderr!.on('data', (d) => (this.output += d));
  }

  /** Scrapes `targets` (host:port) every `intervalMs` as job `job`. */
  static async start(targets: string[], opts: { job?: string; intervalMs?: number } = {}): Promise<PrometheusServer> {
    const dir = mkdtempSync(join(tmpdir(), 'nwt-prom-'));
    const interval = `${opts.intervalMs ?? 1000}ms`;
    writeFileSync(
      join(dir, 'prometheus.yml'),
      [
        'global:',
        `  scrape_interval: ${interval}`,
        `  scrape_timeout: ${interval}`,
        'scrape_configs:',
        `  - job_name: ${opts.job ?? 'netwatch'}`,
        '    static_configs:',
        `      - targets: [${targets.map((t) => JSON.stringify(t)).join(', ')}]`,
        '',
      ].join('\n'),
    );
    const port = await freePort('127.0.0.1');
    const child = spawn(
      'prometheus',
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const prom = new PrometheusServer(child, `http://127.0.0.1:${port}`, dir);
    const end = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`prometheus exited with ${child.exitCode}:\n${prom.output}`);
      const ok = await fetch(`${prom.url}/-/ready`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) return prom;
      if (Date.now() > end) throw new Error(`prometheus not ready after 30 s:\n${prom.output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** An instant query through /api/v1/query; numbers parsed. */
  async query(promql: string): Promise<PromSample[]> {
    const r = await fetch(`${this.url}/api/v1/query?query=${encodeURIComponent(promql)}`);
    const body = (await r.json()) as {
      status: string;
      error?: string;
      data: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };
    };
    if (body.status !== 'success') throw new Error(`query ${promql}: ${body.error}`);
    return body.data.result.map((s) => ({ metric: s.metric, value: Number(s.value[1]) }));
  }

  /** The values `label` has on the series `match` selects (/api/v1/label/<label>/values, what Grafana's label_values() asks). */
  async labelValues(label: string, match: string): Promise<string[]> {
    const r = await fetch(`${this.url}/api/v1/label/${encodeURIComponent(label)}/values?match[]=${encodeURIComponent(match)}`);
    const body = (await r.json()) as { status: string; error?: string; data: string[] };
    if (body.status !== 'success') throw new Error(`label values of ${label} on ${match}: ${body.error}`);
    return body.data;
  }

  /** Health of each scrape target, as Prometheus sees it. */
  async targets(): Promise<{ health: string; lastError: string; scrapeUrl: string }[]> {
    const r = (await (await fetch(`${this.url}/api/v1/targets`)).json()) as {
      data: { activeTargets: { health: string; lastError: string; scrapeUrl: string }[] };
    };
    return r.data.activeTargets;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      await new Promise<void>((resolve) => {
        this.child.once('exit', () => resolve());
        this.child.kill('SIGTERM');
      });
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
