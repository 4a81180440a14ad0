// How each catalogue attribute is read from a connection event, and per-metric attribute plans
// that turn an event into a compact series key (hot path) and, once per series, an attribute object.
import type { Attributes } from '@opentelemetry/api';
import type { ConnectionsReceiverConfig } from '../config/types';
import type { ConnPipelineEvent } from '../pipeline/event';
import type { TcpState } from '../probes/conn/event';
import { errnoName } from './errno';
import { ATTR, ATTRIBUTES, type AttributeName } from './generated';

export type AttrValue = string | number | boolean;
type Extract = (ev: ConnPipelineEvent) => AttrValue | undefined;

const inbound = (ev: ConnPipelineEvent): boolean => ev.direction === 'inbound' || (ev.direction === 'unknown' && ev.remotePort === 0);
const nonZero = (n: number): number | undefined => (n === 0 ? undefined : n);
const nonEmpty = (s: string | undefined): string | undefined => (s === '' ? undefined : s);

/** Every attribute a connection event can carry; attributes absent here are not connection attributes. */
export const CONN_EXTRACTORS: Partial<Record<AttributeName, Extract>> = {
  [ATTR.NETWORK_TRANSPORT]: (ev) => ev.transport,
  [ATTR.NETWORK_TYPE]: (ev) => ev.networkType,
  [ATTR.NETWORK_PEER_ADDRESS]: (ev) => nonEmpty(ev.remoteAddress),
  [ATTR.NETWORK_PEER_PORT]: (ev) => nonZero(ev.remotePort),
  [ATTR.SERVER_ADDRESS]: (ev) => nonEmpty(inbound(ev) ? ev.localAddress : ev.remoteAddress),
  [ATTR.SERVER_PORT]: (ev) => nonZero(inbound(ev) ? ev.localPort : ev.remotePort),
  [ATTR.CLIENT_PORT]: (ev) => nonZero(inbound(ev) ? ev.remotePort : ev.localPort),
  [ATTR.NETWORK_CONNECTION_STATE]: (ev) => ev.newState,
  [ATTR.CONNECTION_PREVIOUS_STATE]: (ev) => ev.oldState,
  [ATTR.CONNECTION_DIRECTION]: (ev) => ev.direction,
  [ATTR.PROCESS_PID]: (ev) => nonZero(ev.pid),
  [ATTR.PROCESS_EXECUTABLE_NAME]: (ev) => nonEmpty(ev.process?.executableName ?? ev.comm),
  [ATTR.CONTAINER_ID]: (ev) => nonEmpty(ev.container?.id),
  [ATTR.CONTAINER_RUNTIME]: (ev) => ev.container?.runtime,
  [ATTR.NOMAD_JOB]: (ev) => nonEmpty(ev.nomad?.job),
  [ATTR.NOMAD_GROUP]: (ev) => nonEmpty(ev.nomad?.group),
  [ATTR.NOMAD_TASK]: (ev) => nonEmpty(ev.nomad?.task),
  [ATTR.NOMAD_NAMESPACE]: (ev) => nonEmpty(ev.nomad?.namespace),
  [ATTR.NOMAD_ALLOC_ID]: (ev) => nonEmpty(ev.nomad?.allocId),
  [ATTR.ERROR_TYPE]: (ev) => (ev.error === 0 ? undefined : errnoName(ev.error)),
  [ATTR.CONNECTION_DURATION]: (ev) => (ev.durationNs > 0 ? ev.durationNs / 1e9 : undefined),
  [ATTR.CONNECTION_BYTES_SENT]: (ev) => ev.bytesSent,
  [ATTR.CONNECTION_BYTES_RECEIVED]: (ev) => ev.bytesReceived,
  [ATTR.CONNECTION_RETRANSMITS]: (ev) => ev.retransmits,
  [ATTR.CONNECTION_RTT]: (ev) => (ev.srttUs > 0 ? ev.srttUs / 1e6 : undefined),
};

// States a socket can only be in after it was established: an error then is a reset, not a failed connect.
export const AFTER_ESTABLISHED: ReadonlySet<TcpState> = new Set(['established', 'fin_wait_1', 'fin_wait_2', 'close_wait', 'last_ack', 'closing', 'time_wait']);

/** A close with an error from a state before established: the connection never worked (refused, timed out...). */
export function failedBeforeEstablished(ev: ConnPipelineEvent): boolean {
  return ev.kind === 'close' && ev.error !== 0 && !AFTER_ESTABLISHED.has(ev.oldState);
}

const SEP = '\x1f';
/** Interned keys per plan: a bound on memory; series beyond it (opt-in attributes) are keyed as before, afresh. */
export const MAX_INTERNED_KEYS = 4096;

/** Attribute values level by level (one level per attribute of the plan), the key string at the leaves. */
type KeyTrie = Map<AttrValue | undefined, KeyTrie | string>;

/** The attributes one metric gets from one receiver: opt-ins resolved once, not per event. */
export class AttributePlan {
  private readonly extract: Extract[];
  /** The last event keyed under this plan and its key (ConnMetrics reuses it across metrics). */
  keyedEvent: ConnPipelineEvent | undefined = undefined;
  keyedKey = '';
  private trie: KeyTrie = new Map();
  private interned = 0;
  private missedWhileFull = 0;

  constructor(readonly names: readonly AttributeName[]) {
    this.extract = names.map((n) => {
      const f = CONN_EXTRACTORS[n];
      if (!f) throw new Error(`attribute ${n} has no connection extractor`);
      return f;
    });
  }

  /** Catalogue attributes of a metric, minus opt-ins the receiver's `include` leaves off, minus `omit`. */
  static forMetric(attributes: readonly AttributeName[], include: ConnectionsReceiverConfig['include'], omit: readonly AttributeName[] = []): AttributePlan {
    return new AttributePlan(attributes.filter((n) => {
      const d = ATTRIBUTES[n];
      if (omit.includes(n)) return false;
      return d.requirement === 'always' || (d.include !== undefined && include[d.include]);
    }));
  }

  /**
   * The series key: the values joined, interned, so that the same attribute set yields the same
   * string object. A key built afresh costs a hash of the whole string at every table lookup
   * (~200 ns); an interned one has its hash cached, and finding it walks a trie of the values,
   * whose hashes are cached already (constants, strings shared through the enricher's caches).
   */
  key(ev: ConnPipelineEvent): string {
    const n = this.extract.length;
    if (n === 0) return '';
    let node = this.trie;
    for (let i = 0; i < n - 1; i++) {
      const v = this.extract[i](ev);
      let next = node.get(v) as KeyTrie | undefined;
      if (next === undefined) {
        if (this.interned >= MAX_INTERNED_KEYS) return this.missFull(ev);
        node.set(v, (next = new Map()));
      }
      node = next;
    }
    const v = this.extract[n - 1](ev);
    const hit = node.get(v) as string | undefined;
    if (hit !== undefined) return hit;
    if (this.interned >= MAX_INTERNED_KEYS) return this.missFull(ev);
    const k = this.buildKey(ev);
    node.set(v, k);
    this.interned++;
    return k;
  }

  /** The trie is full: build the key; once as many keys missed as it holds, start it afresh (the population moved on). */
  private missFull(ev: ConnPipelineEvent): string {
    if (++this.missedWhileFull >= MAX_INTERNED_KEYS) {
      this.trie = new Map();
      this.interned = 0;
      this.missedWhileFull = 0;
    }
    return this.buildKey(ev);
  }

  /** The key as a fresh string (what key() interns). */
  buildKey(ev: ConnPipelineEvent): string {
    let k = '';
    for (let i = 0; i < this.extract.length; i++) {
      const v = this.extract[i](ev);
      k += v === undefined ? SEP : v + SEP;
    }
    return k;
  }

  attributes(ev: ConnPipelineEvent): Attributes {
    const out: Attributes = {};
    for (let i = 0; i < this.extract.length; i++) {
      const v = this.extract[i](ev);
      if (v !== undefined) out[this.names[i]] = v;
    }
    return out;
  }
}
