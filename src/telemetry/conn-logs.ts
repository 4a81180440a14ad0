// The connections receiver's log records: one per enabled event class, named by `eventName`,
// stamped with the kernel's time of the event, sampled and rate-limited per the receiver's `logs`.
import type { Logger as OtelLogger } from '@opentelemetry/api-logs';
import type { ConnectionsReceiverConfig } from '../config/types';
import type { Logger } from '../log';
import type { ConnPipelineEvent, EventSink, PipelineEvent } from '../pipeline/event';
import { AttributePlan, failedBeforeEstablished } from './conn-attributes';
import { errnoName } from './errno';
import { EVENT, EVENTS, type EventDescriptor, type EventName } from './generated';

export const CONN_EVENTS: readonly EventDescriptor[] = Object.values(EVENTS).filter((e) => e.source === 'connections');

export function eventEnabled(rc: ConnectionsReceiverConfig, e: EventDescriptor): boolean {
  return rc.events[e.name]?.enabled ?? e.enabled;
}

/** Which event class a connection event becomes (undefined: none). */
export function eventClass(ev: ConnPipelineEvent): EventName | undefined {
  switch (ev.kind) {
    case 'connect': return EVENT.CONNECTION_OPEN;
    case 'accept': return EVENT.CONNECTION_ACCEPT;
    case 'state': return EVENT.CONNECTION_STATE_CHANGE;
    // A listening socket going away is not a connection closing.
    case 'close':
      if (ev.oldState === 'listen') return undefined;
      return failedBeforeEstablished(ev) ? EVENT.CONNECTION_FAILURE : EVENT.CONNECTION_CLOSE;
    case 'existing': return undefined;
  }
}

const hostPort = (addr: string, port: number): string => (addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`);

/** A one-line human summary; the attributes carry the same facts for machines. */
function body(name: EventName, ev: ConnPipelineEvent): string {
  const who = ev.process?.executableName || ev.comm || `pid ${ev.pid}`;
  const peer = hostPort(ev.remoteAddress, ev.remotePort);
  switch (name) {
    case EVENT.CONNECTION_OPEN: return `${who} connected to ${peer} (${ev.transport})`;
    case EVENT.CONNECTION_ACCEPT: return `${who} accepted ${peer} on port ${ev.localPort}`;
    case EVENT.CONNECTION_CLOSE:
      return `${who} closed its ${ev.direction} connection with ${peer} after ${(ev.durationNs / 1e9).toFixed(3)} s: ${ev.bytesSent} B sent, ${ev.bytesReceived} B received`;
    case EVENT.CONNECTION_FAILURE: return `${who} could not connect to ${peer}: ${errnoName(ev.error)}`;
    case EVENT.CONNECTION_STATE_CHANGE: return `${who} ${peer}: ${ev.oldState} -> ${ev.newState}`;
    default: return name;
  }
}

interface ReceiverLogs {
  events: Map<EventName, { d: EventDescriptor; plan: AttributePlan }>;
  ratio: number;
  maxPerSecond: number;
  second: number;
  inSecond: number;
}

export class ConnLogs implements EventSink {
  private readonly byReceiver = new Map<string, ReceiverLogs>();
  /** Records dropped by sampling and by the rate limit. */
  sampledOut = 0;
  rateLimited = 0;
  private warnedRate = false;

  constructor(private readonly logger: OtelLogger, receivers: readonly ConnectionsReceiverConfig[], private readonly log: Logger, private readonly random = Math.random) {
    for (const rc of receivers) {
      const events = new Map<EventName, { d: EventDescriptor; plan: AttributePlan }>();
      // Log records carry every catalogue attribute they have: opt-ins only restrict metrics.
      for (const d of CONN_EVENTS) if (eventEnabled(rc, d)) events.set(d.name, { d, plan: new AttributePlan(d.attributes) });
      this.byReceiver.set(rc.id, { events, ratio: rc.logs.sampling_ratio, maxPerSecond: rc.logs.max_per_second, second: 0, inSecond: 0 });
    }
  }

  consume(ev: PipelineEvent): void {
    if (ev.source !== 'connections') return;
    const r = this.byReceiver.get(ev.receiver);
    if (!r) return;
    const name = eventClass(ev);
    const e = name && r.events.get(name);
    if (!e) return;
    if (r.ratio < 1 && this.random() >= r.ratio) {
      this.sampledOut++;
      return;
    }
    if (r.maxPerSecond > 0 && !this.admit(r)) return;
    this.logger.emit({
      eventName: e.d.name,
      timestamp: ev.timeUnixMs,
      severityNumber: e.d.severityNumber,
      severityText: e.d.severityText,
      body: body(e.d.name, ev),
      attributes: e.plan.attributes(ev),
    });
  }

  /** Fixed one-second windows of wall-clock time: cheap, and bursts at a boundary are bounded by 2x. */
  private admit(r: ReceiverLogs): boolean {
    const now = Math.floor(Date.now() / 1000);
    if (now !== r.second) {
      r.second = now;
      r.inSecond = 0;
    }
    if (r.inSecond < r.maxPerSecond) {
      r.inSecond++;
      return true;
    }
    this.rateLimited++;
    if (!this.warnedRate) this.log.warn(`connection log records are capped at ${r.maxPerSecond}/s (receivers.<id>.logs.max_per_second); the excess is dropped`);
    this.warnedRate = true;
    return false;
  }
}
