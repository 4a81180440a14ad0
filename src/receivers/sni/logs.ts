// The sni receiver's log records: one per ClientHello (`netwatch.tls.client_hello`), stamped with
// the kernel's time of the packet that completed it, sampled and rate-limited per receiver.
import type { Logger as OtelLogger } from '@opentelemetry/api-logs';
import type { SniReceiverConfig } from './config';
import type { Logger } from '../../log';
import type { EventSink, PipelineEvent, SniPipelineEvent } from '../../pipeline/event';
import { EVENT, EVENTS, type EventDescriptor } from '../../catalogue/generated';
import { LogGate } from '../../telemetry/log-gate';
import { sniPlan, type SniPlan } from './attributes';

const hostPort = (addr: string, port: number): string => (addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`);

/** A one-line human summary; the attributes carry the same facts for machines. */
function body(ev: SniPipelineEvent): string {
  const who = ev.process?.executableName || hostPort(ev.clientAddress, ev.clientPort);
  const name =
    ev.serverName === undefined
      ? ev.sslv2
        ? 'no server name (SSLv2-compatible hello)'
        : 'no server name'
      : `${ev.serverName}${ev.ech ? ' (ECH outer name)' : ''}`;
  return `${who} asked ${hostPort(ev.serverAddress, ev.serverPort)} for ${name}${ev.alpn.length ? ` with ALPN ${ev.alpn.join(',')}` : ''}`;
}

interface ReceiverLogs {
  plan: SniPlan | undefined;
  gate: LogGate;
}

export class SniLogs implements EventSink {
  private readonly byReceiver = new Map<string, ReceiverLogs>();
  private readonly d: EventDescriptor = EVENTS[EVENT.TLS_CLIENT_HELLO];

  constructor(
    private readonly logger: OtelLogger,
    receivers: readonly SniReceiverConfig[],
    log: Logger,
    random = Math.random,
  ) {
    for (const rc of receivers) {
      const on = rc.events[this.d.name]?.enabled ?? this.d.enabled;
      this.byReceiver.set(rc.id, {
        plan: on ? sniPlan(this.d.attributes) : undefined,
        gate: new LogGate(rc.logs, `ClientHello log records of receivers.${rc.id}`, log, random),
      });
    }
  }

  consume(ev: PipelineEvent): void {
    if (ev.source !== 'sni' || ev.kind !== 'client_hello') return;
    const r = this.byReceiver.get(ev.receiver);
    if (!r?.plan) return;
    if (!r.gate.admit()) return;
    this.logger.emit({
      eventName: this.d.name,
      timestamp: ev.timeUnixMs,
      severityNumber: this.d.severityNumber,
      severityText: this.d.severityText,
      body: body(ev),
      attributes: r.plan.attributes(ev),
    });
  }
}
