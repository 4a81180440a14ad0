// The packet_fate receiver's log records: one per sampled record (the kernel already limits them
// to sample_per_interval per kind and interval), named by `eventName`, stamped with the kernel's time.
import type { Logger as OtelLogger } from '@opentelemetry/api-logs';
import type { PacketFateReceiverConfig } from './config';
import type { EventSink, PacketFateSampleEvent, PipelineEvent } from '../../pipeline/event';
import type { FateKind } from './event';
import { FATE_TELEMETRY, fateEventEnabled } from './settings';
import { EVENTS, type EventDescriptor } from '../../catalogue/generated';
import { fatePlan, type FatePlan } from './attributes';

const endpoint = (addr: string, port: number): string => (port === 0 ? addr || '?' : addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`);

/** A one-line human summary; the attributes carry the same facts for machines. */
export function fateBody(ev: PacketFateSampleEvent): string {
  const who = ev.process?.executableName;
  const owner = who ? ` (${who}${ev.state ? `, ${ev.state}` : ''})` : ev.state ? ` (${ev.state})` : '';
  const src = endpoint(ev.sourceAddress, ev.sourcePort);
  const dst = endpoint(ev.destinationAddress, ev.destinationPort);
  switch (ev.kind) {
    case 'drop': {
      const what = ev.transport ? `a ${ev.transport} packet` : 'a packet';
      const path = ev.sourceAddress ? ` ${src} -> ${dst}` : '';
      const on = ev.interfaceName ? ` on ${ev.interfaceName}` : '';
      const at = ev.locationName ? ` at ${ev.locationName}` : '';
      return `dropped ${what}${path}${on}: ${ev.reason}${at}${owner}`;
    }
    case 'reset_sent':
      return `sent a TCP reset ${src} -> ${dst}: ${ev.reason}${owner}`;
    case 'reset_received':
      return `received a TCP reset from ${src} on ${dst}${owner}`;
    case 'retransmit':
      return `retransmitted a TCP segment ${src} -> ${dst}${owner}`;
  }
}

export class PacketFateLogs implements EventSink {
  /** receiver id → kind → the event it becomes (absent when switched off). */
  private readonly byReceiver = new Map<string, Map<FateKind, { d: EventDescriptor; plan: FatePlan }>>();

  constructor(
    private readonly logger: OtelLogger,
    receivers: readonly PacketFateReceiverConfig[],
  ) {
    for (const rc of receivers) {
      const kinds = new Map<FateKind, { d: EventDescriptor; plan: FatePlan }>();
      for (const [kind, { event }] of Object.entries(FATE_TELEMETRY) as [FateKind, (typeof FATE_TELEMETRY)[FateKind]][]) {
        // Log records carry every catalogue attribute they have: opt-ins only restrict metrics.
        if (fateEventEnabled(rc, event)) kinds.set(kind, { d: EVENTS[event], plan: fatePlan(EVENTS[event].attributes) });
      }
      this.byReceiver.set(rc.id, kinds);
    }
  }

  consume(ev: PipelineEvent): void {
    if (ev.source !== 'packet_fate' || ev.record !== 'sample') return;
    const e = this.byReceiver.get(ev.receiver)?.get(ev.kind);
    if (!e) return;
    this.logger.emit({
      eventName: e.d.name,
      timestamp: ev.timeUnixMs,
      severityNumber: e.d.severityNumber,
      severityText: e.d.severityText,
      body: fateBody(ev),
      attributes: e.plan.attributes(ev),
    });
  }
}
