// What the agent reports about itself, and the /health, /readyz bodies built from it.
import type { ExporterStatus } from '../telemetry/export-health';
import type { ProbeStats } from '../receivers/receiver';
import type { WindowStats } from './window';

export interface ReceiverStatus {
  type: string;
  /** attached: running; failed: could not start (error says why); starting: not yet attached. */
  state: 'starting' | 'attached' | 'failed';
  sinceUnixMs: number;
  error?: string;
  stats?: ProbeStats;
}

export interface ReloadOutcome {
  timeUnixMs: number;
  file: string;
  applied: boolean;
  /** Why it was rejected or failed: every config problem, each with its key path. */
  problems: readonly string[];
}

export interface AgentStatus {
  phase: 'starting' | 'running' | 'reloading' | 'stopping';
  startedAtUnixMs: number;
  generation: number;
  source: string;
  loadedAtUnixMs: number;
  lastReload?: ReloadOutcome;
  receivers: Readonly<Record<string, ReceiverStatus>>;
  exporters: readonly ExporterStatus[];
  /** Telemetry (providers, readers, exporters) is built. */
  exportersConstructed: boolean;
  windows?: Readonly<Record<string, WindowStats>>;
  /** The enricher's bounded caches: entries held and the most they may hold. */
  caches?: Readonly<Record<'process' | 'cgroup' | 'nomad', { size: number; capacity: number }>>;
}

const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());

/** Ready once every configured probe is attached and the exporters are constructed. */
export function readiness(s: AgentStatus): { ready: boolean; reasons: string[] } {
  const reasons: string[] = [];
  if (s.phase === 'starting') reasons.push('the agent is starting');
  if (s.phase === 'stopping') reasons.push('the agent is stopping');
  if (!s.exportersConstructed) reasons.push('the exporters are not constructed yet');
  for (const [id, r] of Object.entries(s.receivers)) {
    if (r.state !== 'attached') reasons.push(`receiver ${id} is ${r.state}${r.error ? `: ${r.error}` : ''}`);
  }
  return { ready: reasons.length === 0, reasons };
}

export function healthBody(s: AgentStatus, version: string, nowMs: number) {
  const { ready, reasons } = readiness(s);
  const total = { read: 0, lost: 0, decode_errors: 0 };
  const receivers = Object.fromEntries(
    Object.entries(s.receivers).map(([id, r]) => {
      total.read += r.stats?.read ?? 0;
      total.lost += r.stats?.lost ?? 0;
      total.decode_errors += r.stats?.decodeErrors ?? 0;
      return [
        id,
        {
          type: r.type,
          status: r.state,
          since: iso(r.sinceUnixMs),
          error: r.error ?? null,
          events_read: r.stats?.read ?? 0,
          events_lost: r.stats?.lost ?? 0,
          decode_errors: r.stats?.decodeErrors ?? 0,
        },
      ];
    }),
  );
  const exporters = s.exporters.map((e) => ({
    id: e.id,
    signal: e.signal,
    endpoint: e.endpoint,
    status: e.state,
    exports: e.exports,
    failures: e.failures,
    last_success: iso(e.lastSuccessUnixMs),
    last_error: e.lastError ? { message: e.lastError.message, time: iso(e.lastError.timeUnixMs) } : null,
  }));
  const degraded = s.exporters.some((e) => e.state === 'failing' || e.state === 'failed');
  return {
    status: !ready ? (s.phase === 'running' || s.phase === 'reloading' ? 'unhealthy' : s.phase) : degraded ? 'degraded' : 'ok',
    ready,
    not_ready_reasons: reasons,
    version,
    uptime_s: Math.round((nowMs - s.startedAtUnixMs) / 100) / 10,
    started_at: iso(s.startedAtUnixMs),
    config: {
      generation: s.generation,
      source: s.source,
      loaded_at: iso(s.loadedAtUnixMs),
      last_reload: s.lastReload
        ? { time: iso(s.lastReload.timeUnixMs), file: s.lastReload.file, applied: s.lastReload.applied, problems: [...s.lastReload.problems] }
        : null,
    },
    events: total,
    receivers,
    exporters,
    window: s.windows
      ? Object.fromEntries(
          Object.entries(s.windows).map(([src, w]) => [
            src,
            { held: w.held, capacity: w.capacity, added: w.added, evicted: w.evicted, max_age_s: w.maxAgeMs / 1000 },
          ]),
        )
      : null,
    caches: s.caches ? Object.fromEntries(Object.entries(s.caches).map(([name, c]) => [name, { size: c.size, capacity: c.capacity }])) : null,
  };
}
