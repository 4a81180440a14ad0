// One frame of `netwatch top`, rendered from the agent's /health and summary answers with
// cli-table3. Pure: the command fetches and refreshes, this only draws.
import Table from 'cli-table3';
import type { ConnectionSummary, CountRow, SniSummary } from '../server/summary';

/** The parts of /health the view shows. */
export interface HealthView {
  status: string;
  version: string;
  uptime_s: number;
  config: { generation: number; source: string };
  events: { read: number; lost: number; decode_errors: number };
  receivers: Record<string, { status: string; events_lost: number; error: string | null }>;
  exporters: { id: string; signal: string; status: string; last_error: { message: string } | null }[];
}

export interface TopData {
  url: string;
  since: string;
  /** The filters given on the command line, shown in the header. */
  filters: string;
  health: HealthView;
  connections: ConnectionSummary & { lost_events: Record<string, number> };
  sni: SniSummary;
}

export interface RenderOptions {
  width: number;
  /** Rows per table. */
  rows: number;
  now: Date;
  intervalText: string;
}

const plain = { head: [], border: [] };

function table(head: string[], rows: (string | number)[][], empty: string): string {
  if (!rows.length) return `  ${empty}`;
  const t = new Table({ head, style: { ...plain, compact: true }, chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' } });
  t.push(...rows.map((r) => r.map(String)));
  return t.toString();
}

const countRows = (rows: CountRow[], n: number): (string | number)[][] => rows.slice(0, n).map((r) => [r.name, r.connections, r.open, r.failed, r.events]);

const more = (rows: unknown[], n: number): string => (rows.length > n ? `  … ${rows.length - n} more` : '');

function side(left: string, right: string): string {
  const l = left.split('\n');
  const r = right.split('\n');
  const w = Math.max(...l.map((x) => x.length));
  return Array.from({ length: Math.max(l.length, r.length) }, (_, i) => (l[i] ?? '').padEnd(w + 2) + (r[i] ?? '')).join('\n');
}

export function renderTop(d: TopData, o: RenderOptions): string {
  const h = d.health;
  const c = d.connections;
  const lost =
    Object.entries(c.lost_events)
      .map(([id, n]) => `${id} ${n}`)
      .join(', ') || 'none';
  const out: string[] = [];
  out.push(
    `netwatch ${h.version} at ${d.url} | ${h.status} | config generation ${h.config.generation} | up ${Math.round(h.uptime_s)}s | ` +
      `events read ${h.events.read}, lost ${h.events.lost}`,
  );
  out.push(
    `last ${d.since}${d.filters ? ` (${d.filters})` : ''}: ${c.connections} connections (${c.open} open, ${c.failed} failed), ${c.events} events | lost events: ${lost}`,
  );
  out.push('');
  out.push('Connections by process');
  out.push(table(['process', 'conns', 'open', 'failed', 'events'], countRows(c.by_process, o.rows), '(none)') + more(c.by_process, o.rows));
  out.push('');
  const states = Object.entries(c.by_state).sort((a, b) => b[1] - a[1]);
  out.push(
    side(
      'By state\n' + table(['state', 'conns'], states.slice(0, o.rows), '(none)'),
      'Failures\n' +
        table(
          ['error', 'conns'],
          Object.entries(c.failures)
            .sort((a, b) => b[1] - a[1])
            .slice(0, o.rows),
          '(none)',
        ),
    ),
  );
  out.push('');
  out.push(
    side(
      'By container\n' +
        table(
          ['container', 'conns', 'open', 'failed', 'events'],
          countRows(c.by_container, o.rows).map((r) => [String(r[0]).slice(0, 12), ...r.slice(1)]),
          '(none)',
        ),
      'By Nomad job\n' + table(['job', 'conns', 'open', 'failed', 'events'], countRows(c.by_nomad_job, o.rows), '(none)'),
    ),
  );
  out.push('');
  const sniRows = d.sni.by_server_name.slice(0, o.rows).map((r) => [r.server_name, r.hellos, r.ports.join(','), r.clients]);
  out.push(`SNI names (${d.sni.client_hellos} ClientHellos, ${d.sni.without_name} without a name, ${d.sni.syns} SYNs)`);
  out.push(table(['server name', 'hellos', 'ports', 'clients'], sniRows, '(none seen: no sni receiver, or no TLS yet)') + more(d.sni.by_server_name, o.rows));
  out.push('');
  const failing = h.exporters.filter((e) => e.status === 'failing' || e.status === 'failed');
  out.push(`exporters: ${h.exporters.map((e) => `${e.id}/${e.signal} ${e.status}`).join(', ') || 'none'}`);
  for (const e of failing) if (e.last_error) out.push(`  ${e.id}: ${e.last_error.message}`);
  out.push(`q: quit | refreshed ${o.now.toISOString().slice(11, 19)} every ${o.intervalText}`);
  return out
    .map((l) =>
      l
        .split('\n')
        .map((x) => (x.length > o.width ? x.slice(0, o.width - 1) + '…' : x))
        .join('\n'),
    )
    .join('\n');
}
