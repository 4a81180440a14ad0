// Summaries of the events in the window: connections (not events) counted per process,
// container, Nomad job and latest state; SNI names counted per name and port.
import type { ConnPipelineEvent, SniPipelineEvent } from '../pipeline/event';
import { errnoName } from '../wire/errno-names';
import { processNameOf } from './views';

export interface CountRow {
  /** The group's name: executable, container id, Nomad job, server name. */
  name: string;
  connections: number;
  /** Of those, the ones whose latest event in the window is not a close. */
  open: number;
  failed: number;
  events: number;
}

export interface ConnectionSummary {
  events: number;
  connections: number;
  open: number;
  failed: number;
  by_kind: Record<string, number>;
  /** Latest state of each connection in the window. */
  by_state: Record<string, number>;
  by_process: CountRow[];
  by_container: CountRow[];
  by_nomad_job: CountRow[];
  /** Failed connections by error (ECONNREFUSED, ETIMEDOUT, ...). */
  failures: Record<string, number>;
}

/** A connection is its socket while it lives; the peer disambiguates a reused socket address. */
const connKey = (ev: ConnPipelineEvent): string => `${ev.receiver}/${ev.sock}/${ev.remoteAddress}/${ev.remotePort}`;

interface Conn {
  /** Its first event (connect, existing) was seen: older events of the same socket are an earlier connection. */
  begun: boolean;
  latest: ConnPipelineEvent;
  events: number;
  process: string;
  container?: string;
  job?: string;
  failed: boolean;
}

function addTo(rows: Map<string, CountRow>, name: string, c: Conn, isOpen: boolean): void {
  let r = rows.get(name);
  if (!r) rows.set(name, (r = { name, connections: 0, open: 0, failed: 0, events: 0 }));
  r.connections++;
  r.events += c.events;
  if (isOpen) r.open++;
  if (c.failed) r.failed++;
}

const sorted = (rows: Map<string, CountRow>): CountRow[] =>
  [...rows.values()].sort((a, b) => b.connections - a.connections || b.events - a.events || (a.name < b.name ? -1 : 1));

const bump = (m: Record<string, number>, k: string): void => {
  m[k] = (m[k] ?? 0) + 1;
};

const isClosed = (ev: ConnPipelineEvent): boolean => ev.kind === 'close' || ev.newState === 'closed';

/** `events` newest first, as the window yields them. */
export function summarizeConnections(events: Iterable<ConnPipelineEvent>): ConnectionSummary {
  // The kernel reuses a freed socket's address, even for the next connection to the same peer:
  // walking newest first, a close (a connection's last event) or an event older than a connect
  // (its first) starts another connection on that socket.
  const current = new Map<string, Conn>();
  const conns: Conn[] = [];
  const byKind: Record<string, number> = {};
  const failures: Record<string, number> = {};
  let n = 0;
  for (const ev of events) {
    n++;
    bump(byKind, ev.kind);
    const key = connKey(ev);
    let c = current.get(key);
    if (!c || c.begun || (ev.kind === 'close' && c.events > 0)) {
      c = { begun: false, latest: ev, events: 0, process: processNameOf(ev) || '(unknown)', failed: false };
      current.set(key, c);
      conns.push(c);
    }
    c.events++;
    if (ev.kind === 'connect' || ev.kind === 'existing') c.begun = true;
    // Attribution may arrive with a later event (a passive socket learns its owner at accept).
    if (c.process === '(unknown)') c.process = processNameOf(ev) || c.process;
    c.container ??= ev.container?.id;
    c.job ??= ev.nomad?.job;
    if (ev.error !== 0 && !c.failed) {
      c.failed = true;
      bump(failures, errnoName(ev.error));
    }
  }
  const byState: Record<string, number> = {};
  const byProcess = new Map<string, CountRow>();
  const byContainer = new Map<string, CountRow>();
  const byJob = new Map<string, CountRow>();
  let open = 0;
  let failed = 0;
  for (const c of conns) {
    const isOpen = !isClosed(c.latest);
    if (isOpen) open++;
    if (c.failed) failed++;
    bump(byState, isClosed(c.latest) ? 'closed' : c.latest.newState);
    addTo(byProcess, c.process, c, isOpen);
    if (c.container) addTo(byContainer, c.container, c, isOpen);
    if (c.job) addTo(byJob, c.job, c, isOpen);
  }
  return {
    events: n,
    connections: conns.length,
    open,
    failed,
    by_kind: byKind,
    by_state: byState,
    by_process: sorted(byProcess),
    by_container: sorted(byContainer),
    by_nomad_job: sorted(byJob),
    failures,
  };
}

export interface SniNameRow {
  server_name: string;
  /** ClientHellos naming it. */
  hellos: number;
  ports: number[];
  /** Distinct client addresses. */
  clients: number;
  ech: number;
}

export interface SniSummary {
  events: number;
  client_hellos: number;
  syns: number;
  /** ClientHellos without a server name (no SNI extension, SSLv2-compatible). */
  without_name: number;
  by_server_name: SniNameRow[];
  /** SYNs (connection attempts) by server port. */
  syns_by_port: Record<string, number>;
  by_process: { name: string; hellos: number }[];
}

export function summarizeSni(events: Iterable<SniPipelineEvent>): SniSummary {
  const names = new Map<string, { row: SniNameRow; ports: Set<number>; clients: Set<string> }>();
  const synsByPort: Record<string, number> = {};
  const byProcess = new Map<string, number>();
  let n = 0;
  let hellos = 0;
  let syns = 0;
  let anonymous = 0;
  for (const ev of events) {
    n++;
    if (ev.kind === 'syn') {
      syns++;
      bump(synsByPort, String(ev.serverPort));
      continue;
    }
    hellos++;
    const proc = processNameOf(ev);
    if (proc) byProcess.set(proc, (byProcess.get(proc) ?? 0) + 1);
    if (ev.serverName === undefined) {
      anonymous++;
      continue;
    }
    let g = names.get(ev.serverName);
    if (!g)
      names.set(ev.serverName, (g = { row: { server_name: ev.serverName, hellos: 0, ports: [], clients: 0, ech: 0 }, ports: new Set(), clients: new Set() }));
    g.row.hellos++;
    if (ev.ech) g.row.ech++;
    g.ports.add(ev.serverPort);
    g.clients.add(ev.clientAddress);
  }
  const rows = [...names.values()].map((g) => ({ ...g.row, ports: [...g.ports].sort((a, b) => a - b), clients: g.clients.size }));
  rows.sort((a, b) => b.hellos - a.hellos || (a.server_name < b.server_name ? -1 : 1));
  return {
    events: n,
    client_hellos: hellos,
    syns,
    without_name: anonymous,
    by_server_name: rows,
    syns_by_port: synsByPort,
    by_process: [...byProcess].map(([name, h]) => ({ name, hellos: h })).sort((a, b) => b.hellos - a.hellos || (a.name < b.name ? -1 : 1)),
  };
}
