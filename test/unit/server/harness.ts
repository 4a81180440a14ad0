// An ApiServer over a store the test fills with synthetic events and a status it controls.
import { ApiServer } from '../../../src/server/server';
import { EventStore } from '../../../src/server/store';
import type { AgentStatus } from '../../../src/server/health';
import type { ServerConfig } from '../../../src/config/types';
import { freePort } from '../../helpers/ports';

export const NOW = Date.UTC(2026, 0, 2, 15, 4, 5);

export function baseStatus(over: Partial<AgentStatus> = {}): AgentStatus {
  return {
    phase: 'running',
    startedAtUnixMs: NOW - 12_300,
    generation: 1,
    source: 'agent.yaml',
    loadedAtUnixMs: NOW - 12_300,
    receivers: { connections: { type: 'connections', state: 'attached', sinceUnixMs: NOW - 12_000, stats: { read: 10, lost: 2, decodeErrors: 0 } } },
    exporters: [],
    exportersConstructed: true,
    ...over,
  };
}

export interface Harness {
  url: string;
  store: EventStore;
  status: { current: AgentStatus };
  get(path: string, headers?: Record<string, string>): Promise<{ status: number; body: any; headers: Headers }>;
  stop(): Promise<void>;
}

export async function startHarness(over: Partial<ServerConfig> = {}): Promise<Harness> {
  const port = await freePort('127.0.0.1');
  const settings: ServerConfig = { enabled: true, host: '127.0.0.1', port, bearer_token: '', window: { max_events: 1000, max_age_ms: 3_600_000 }, ...over };
  const store = new EventStore(settings.window, () => NOW);
  const status = { current: baseStatus() };
  const server = new ApiServer(settings, { store, status: () => status.current, version: '9.9.9', now: () => NOW });
  await server.start();
  const url = server.url();
  return {
    url,
    store,
    status,
    async get(path, headers = {}) {
      const r = await fetch(url + path, { headers });
      const text = await r.text();
      return { status: r.status, body: text ? JSON.parse(text) : undefined, headers: r.headers };
    },
    stop: () => server.stop(),
  };
}
