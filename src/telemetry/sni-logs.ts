// The sni receiver's log records: one per ClientHello (`netwatch.tls.client_hello`), stamped with
// the kernel's time of the packet that completed it, sampled and rate-limited per receiver.
import type { Logger as OtelLogger } from '@opentelemetry/api-logs';
import type { SniReceiverConfig } from '../config/types';
import type { Logger } from '../log';
import type { EventSink, PipelineEvent, SniPipelineEvent } from '../pipeline/event';
import { EVENT, EVENTS, type EventDescriptor } from './generated';
import { SniAttributePlan } from './sni-attributes';

const hostPort = (addr: string, port: number): string => (addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`);

/** A one-line human summary; the attributes carry the same facts for machines. */
function body(ev: SniPipelineEvent): string {
  const who = ev.process?.executableName || ev.comm || hostPort(ev.clientAddress, ev.clientPort);
  const name = ev.serverName === undefined ? (ev.sslv2 ? 'no server name (SSLv2-compatible hello)' : 'no server name') : `${ev.serverName}${ev.ech ? ' (ECH outer name)' : ''}`;
  return `${who} asked ${hostPort(ev.serverAddress, ev.serverPort)} for ${name}${ev.alpn.length ? ` with ALPN ${ev.alpn.join(',')}` : ''}`;
}

interface ReceiverLogs {
  plan: SniAttributePlan | undefined;
  ratio: number;
  maxPerSecond: number;
  second: number;
  inSecond: number;
}

export class SniLogs implements EventSink {
  private readonly byReceiver = new Map<string, ReceiverLogs>();
  private readonly d: EventDescriptor = EVENTS[EVENT.TLS_CLIENT_HELLO];
  sampledOut = 0;
  rateLimited = 0;
  private warnedRate = false;

  constructor(private readonly logger: OtelLogger, receivers: readonly SniReceiverConfig[], private readonly log: Logger, private readonly random = Math.random) {
    for (const rc of receivers) {
      const on = rc.events[this.d.name]?.enabled ?? this.d.enabled;
      this.byReceiver.set(rc.id, { plan: on ? new SniAttributePlan(this.d.attributes) : undefined, ratio: rc.logs.sampling_ratio, maxPerSecond: rc.logs.max_per_second, second: 0, inSecond: 0 });
    }
  }

  consume(ev: PipelineEvent): void {
    if (ev.source !== 'sni' || ev.kind !== 'client_hello') return;
    const r = this.byReceiver.get(ev.receiver);
    if (!r?.plan) return;
    if (r.ratio < 1 && this.random() >= r.ratio) {
      this.sampledOut++;
      return;
    }
    if (r.maxPerSecond > 0 && !this.admit(r)) return;
    this.logger.emit({
      eventName: this.d.name,
      timestamp: ev.timeUnixMs,
      severityNumber: this.d.severityNumber,
      severityText: this.d.severityText,
      body: body(ev),
      attributes: r.plan.attributes(ev),
    });
  }

  /** Fixed one-second windows of wall-clock time, as for connection log records. */
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
    if (!this.warnedRate) this.log.warn(`ClientHello log records are capped at ${r.maxPerSecond}/s (receivers.<id>.logs.max_per_second); the excess is dropped`);
    this.warnedRate = true;
    return false;
  }
}
