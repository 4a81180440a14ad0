// A filter rule compiled once into a closure: every given field must match (AND), any list item may (OR).
import type { FilterRule } from '../../../config/types';
import type { PipelineEvent } from '../../event';
import { compileCidrs } from './cidr';
import { ownerChecks } from './owner';

export type EventPredicate = (ev: PipelineEvent) => boolean;

/**
 * The server side's port: remote for outbound, local for inbound. When the kernel could not tell
 * the direction, either port may be the server's, so either matches. Which end of a dropped or
 * reset packet is the server is not known either: either port of a sampled record matches, and
 * packet_fate counts (per-interval sums) carry no ports, so a ports rule never matches them.
 */
function serverPortMatches(ev: PipelineEvent, ports: ReadonlySet<number>): boolean {
  switch (ev.source) {
    case 'sni':
      return ports.has(ev.serverPort);
    case 'packet_fate':
      return ev.record === 'sample' && (ports.has(ev.sourcePort) || ports.has(ev.destinationPort));
    case 'connections':
      switch (ev.direction) {
        case 'outbound':
          return ports.has(ev.remotePort);
        case 'inbound':
          return ports.has(ev.localPort);
        case 'unknown':
          return ports.has(ev.remotePort) || ports.has(ev.localPort);
      }
  }
}

/**
 * The other end as seen from this host: for SNI, the server of a local client, the client of a
 * local server; for a sampled packet, either of its addresses (counts carry none).
 */
function peerMatches(ev: PipelineEvent, m: (address: string) => boolean): boolean {
  switch (ev.source) {
    case 'connections':
      return m(ev.remoteAddress);
    case 'sni':
      return m(ev.direction === 'egress' ? ev.serverAddress : ev.clientAddress);
    case 'packet_fate':
      return ev.record === 'sample' && ((ev.sourceAddress !== '' && m(ev.sourceAddress)) || (ev.destinationAddress !== '' && m(ev.destinationAddress)));
  }
}

/** SNI's egress/ingress are the outbound/inbound of a connection seen on the wire; packets have no direction. */
function directionOf(ev: PipelineEvent): string {
  switch (ev.source) {
    case 'connections':
      return ev.direction;
    case 'sni':
      return ev.direction === 'egress' ? 'outbound' : 'inbound';
    case 'packet_fate':
      return '';
  }
}

function transportOf(ev: PipelineEvent): string {
  switch (ev.source) {
    case 'connections':
      return ev.transport;
    case 'sni':
      return 'tcp';
    case 'packet_fate':
      return ev.transport ?? '';
  }
}

export function compileRule(rule: FilterRule): EventPredicate {
  const checks: EventPredicate[] = ownerChecks<PipelineEvent>(rule);
  if (rule.ports.length) {
    const ports = new Set(rule.ports);
    checks.push((ev) => serverPortMatches(ev, ports));
  }
  if (rule.cidrs.length) {
    const m = compileCidrs(rule.cidrs);
    checks.push((ev) => peerMatches(ev, m));
  }
  if (rule.direction.length) {
    const dirs = new Set<string>(rule.direction);
    checks.push((ev) => dirs.has(directionOf(ev)));
  }
  if (rule.transport.length) {
    const ts = new Set<string>(rule.transport);
    checks.push((ev) => ts.has(transportOf(ev)));
  }
  return (ev) => {
    for (let k = 0; k < checks.length; k++) if (!checks[k]!(ev)) return false; // k < length
    return true;
  };
}

export function anyOf(predicates: readonly EventPredicate[]): EventPredicate {
  return (ev) => {
    for (let k = 0; k < predicates.length; k++) if (predicates[k]!(ev)) return true; // k < length
    return false;
  };
}
