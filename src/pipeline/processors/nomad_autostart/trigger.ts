// A trigger: the first matching event of a wake, copied out of the event (which is not kept).
import { processName } from '../filter/owner';
import type { CompiledRule, TriggerEvent, TriggerKind } from './rules';

export interface Trigger {
  readonly kind: TriggerKind;
  readonly rule: CompiledRule;
  /** process.hrtime.bigint() when the packet's ring record was read (sni) or the event was seen. */
  readonly atNs: bigint;
  /** What happened, in words: written into Nomad's scaling event, logs and telemetry. */
  readonly reason: string;
  readonly clientAddress: string;
  readonly serverPort: number;
}

const hostPort = (addr: string, port: number): string => (addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`);

/** "sni app.example.com from 10.1.2.3", "syn to port 5432 from 10.1.2.3", "connect to 10.1.0.5:5432 from psql (pid 42)". */
export function describeTrigger(kind: TriggerKind, ev: TriggerEvent): string {
  if (ev.source === 'sni') {
    return kind === 'sni' ? `sni ${ev.serverName} from ${ev.clientAddress}` : `syn to port ${ev.serverPort} from ${ev.clientAddress}`;
  }
  const who = processName(ev); // the executable, never the thread's comm
  const from = who ? `${who}${ev.pid ? ` (pid ${ev.pid})` : ''}` : ev.pid ? `pid ${ev.pid}` : ev.localAddress;
  return `connect to ${hostPort(ev.remoteAddress, ev.remotePort)} from ${from}`;
}

export function makeTrigger(rule: CompiledRule, kind: TriggerKind, ev: TriggerEvent, atNs: bigint): Trigger {
  return {
    kind,
    rule,
    atNs,
    reason: describeTrigger(kind, ev),
    clientAddress: ev.source === 'sni' ? ev.clientAddress : ev.localAddress,
    serverPort: ev.source === 'sni' ? ev.serverPort : ev.remotePort,
  };
}
