// The connections receiver's log records: one per enabled event class, named by `eventName`,
// stamped with the kernel's time of the event, sampled and rate-limited per the receiver's `logs`.
import type { Logger as OtelLogger } from '@opentelemetry/api-logs';
import type { ConnectionsReceiverConfig } from './config';
import type { Logger } from '../../log';
import type { ConnPipelineEvent, EventSink, PipelineEvent } from '../../pipeline/event';
import { connPlan, type ConnPlan, failedBeforeEstablished } from './attributes';
import { errnoName } from '../../wire/errno-names';
import { LogGate } from '../../telemetry/log-gate';
import { EVENT, EVENTS, type EventDescriptor, type EventName } from '../../catalogue/generated';

export const CONN_EVENTS: readonly EventDescriptor[] = Object.values(EVENTS).filter((e) => e.source === 'connections');

export function eventEnabled(rc: ConnectionsReceiverConfig, e: EventDescriptor): boolean {
  return rc.events[e.name]?.enabled ?? e.enabled;
}

/** Which event class a connection event becomes (undefined: none). */
export function eventClass(ev: ConnPipelineEvent): EventName | undefined {
  switch (ev.kind) {
    case 'connect':
      return EVENT.CONNECTION_OPEN;
    case 'accept':
      return EVENT.CONNECTION_ACCEPT;
    case 'state':
      return EVENT.CONNECTION_STATE_CHANGE;
    // A listening socket going away is not a connection closing.
    case 'close':
      if (ev.oldState === 'listen') return undefined;
      return failedBeforeEstablished(ev) ? EVENT.CONNECTION_FAILURE : EVENT.CONNECTION_CLOSE;
    case 'existing':
    case 'count':
      return undefined;
  }
}

const hostPort = (addr: string, port: number): string => (addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`);

/** A one-line human summary; the attributes carry the same facts for machines. */
function body(name: EventName, ev: ConnPipelineEvent): string {
  const who = ev.process?.executableName || `pid ${ev.pid}`;
  const peer = hostPort(ev.remoteAddress, ev.remotePort);
  switch (name) {
    case EVENT.CONNECTION_OPEN:
      return `${who} connected to ${peer} (${ev.transport})`;
    case EVENT.CONNECTION_ACCEPT:
      return `${who} accepted ${peer} on port ${ev.localPort}`;
    case EVENT.CONNECTION_CLOSE:
      return `${who} closed its ${ev.direction} connection with ${peer} after ${(ev.durationNs / 1e9).toFixed(3)} s: ${ev.bytesSent} B sent, ${ev.bytesReceived} B received`;
    case EVENT.CONNECTION_FAILURE:
      return `${who} could not connect to ${peer}: ${errnoName(ev.error)}`;
    case EVENT.CONNECTION_STATE_CHANGE:
      return `${who} ${peer}: ${ev.oldState} -> ${ev.newState}`;
    default:
      return name;
  }
}

interface ReceiverLogs {
  events: Map<EventName, { d: EventDescriptor; plan: ConnPlan }>;
  gate: LogGate;
}

export class ConnLogs implements EventSink {
  private readonly byReceiver = new Map<string, ReceiverLogs>();

  constructor(
    private readonly logger: OtelLogger,
    receivers: readonly ConnectionsReceiverConfig[],
    log: Logger,
    random = Math.random,
  ) {
    for (const rc of receivers) {
      const events = new Map<EventName, { d: EventDescriptor; plan: ConnPlan }>();
      // Log records carry every catalogue attribute they have: opt-ins only restrict metrics.
      for (const d of CONN_EVENTS) if (eventEnabled(rc, d)) events.set(d.name, { d, plan: connPlan(d.attributes) });
      this.byReceiver.set(rc.id, { events, gate: new LogGate(rc.logs, `connection log records of receivers.${rc.id}`, log, random) });
    }
  }

  consume(ev: PipelineEvent): void {
    if (ev.source !== 'connections') return;
    const r = this.byReceiver.get(ev.receiver);
    if (!r) return;
    const name = eventClass(ev);
    const e = name && r.events.get(name);
    if (!e) return;
    if (!r.gate.admit()) return;
    this.logger.emit({
      eventName: e.d.name,
      timestamp: ev.timeUnixMs,
      severityNumber: e.d.severityNumber,
      severityText: e.d.severityText,
      body: body(e.d.name, ev),
      attributes: e.plan.attributes(ev),
    });
  }
}
