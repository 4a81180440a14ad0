// The query API's memory: one bounded window per event source. It is fed with everything the
// receivers produce, before any processor: a filter shapes what is exported, not what an
// operator on the host can look up (see README, "The local query API").
import type { ServerConfig } from '../config/types';
import type { ConnPipelineEvent, PipelineEvent, SniPipelineEvent } from '../pipeline/event';
import { EventWindow, type WindowStats } from './window';

export class EventStore {
  readonly connections: EventWindow<ConnPipelineEvent>;
  readonly sni: EventWindow<SniPipelineEvent>;

  constructor(settings: ServerConfig['window'], now: () => number = Date.now) {
    this.connections = new EventWindow(settings.max_events, settings.max_age_ms, now);
    this.sni = new EventWindow(settings.max_events, settings.max_age_ms, now);
  }

  /** Events of other sources (receivers without query routes yet) are not kept. */
  add(ev: PipelineEvent): void {
    if (ev.source === 'connections') {
      if (ev.kind !== 'count') this.connections.add(ev); // counter rows are metrics, not connections
    } else if (ev.source === 'sni') this.sni.add(ev);
  }

  configure(settings: ServerConfig['window']): void {
    this.connections.configure(settings.max_events, settings.max_age_ms);
    this.sni.configure(settings.max_events, settings.max_age_ms);
  }

  stats(): Record<'connections' | 'sni', WindowStats> {
    return { connections: this.connections.stats(), sni: this.sni.stats() };
  }
}
