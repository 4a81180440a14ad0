// Per-metric (or per-log-event) attribute plans shared by every receiver's telemetry: an event
// becomes a compact, interned series key on the hot path and, once per series, an attribute
// object. Each receiver type supplies how each catalogue attribute is read from its events.
import type { Attributes } from '@opentelemetry/api';
import { InternalError } from '../errors';
import type { Enrichment } from '../enrich/types';
import { ATTR, ATTRIBUTES, type AttributeName, type IncludeSwitch } from '../catalogue/generated';

/** An attribute's value; string[] only on log records (metric series are keyed by scalars, see otel/catalogue.ts). */
export type AttrValue = string | number | boolean | string[];
export type Extractor<E> = (ev: E) => AttrValue | undefined;
/** How a receiver type reads each catalogue attribute it can carry. */
export type Extractors<E> = Partial<Record<AttributeName, Extractor<E>>>;

const nonZero = (n: number): number | undefined => (n === 0 ? undefined : n);
const nonEmpty = (s: string | undefined): string | undefined => (s === '' ? undefined : s);

/** The owner's attributes, read the same way from every event that names a process (pid, comm + enrichment). */
export function ownerExtractors<E extends Enrichment & { readonly pid: number }>(): Extractors<E> {
  return {
    [ATTR.PROCESS_PID]: (ev) => nonZero(ev.pid),
    [ATTR.PROCESS_EXECUTABLE_NAME]: (ev) => nonEmpty(ev.process?.executableName),
    [ATTR.CONTAINER_ID]: (ev) => nonEmpty(ev.container?.id),
    [ATTR.CONTAINER_RUNTIME_NAME]: (ev) => ev.container?.runtime,
    [ATTR.NOMAD_JOB]: (ev) => nonEmpty(ev.nomad?.job),
    [ATTR.NOMAD_GROUP]: (ev) => nonEmpty(ev.nomad?.group),
    [ATTR.NOMAD_TASK]: (ev) => nonEmpty(ev.nomad?.task),
    [ATTR.NOMAD_NAMESPACE]: (ev) => nonEmpty(ev.nomad?.namespace),
    [ATTR.NOMAD_ALLOC_ID]: (ev) => nonEmpty(ev.nomad?.allocId),
  };
}

const SEP = '\x1f';
/** Interned keys per plan: a bound on memory; series beyond it (opt-in attributes) are keyed as before, afresh. */
export const MAX_INTERNED_KEYS = 4096;

/** Attribute values level by level (one level per attribute of the plan), the key string at the leaves. */
type KeyTrie = Map<AttrValue | undefined, KeyTrie | string>;

/** A metric's catalogue attributes, minus opt-ins the receiver's `include` switches leave off, minus `omit`. */
export function metricAttributes(
  attributes: readonly AttributeName[],
  include: Readonly<Partial<Record<IncludeSwitch, boolean>>>,
  omit: readonly AttributeName[] = [],
): AttributeName[] {
  return attributes.filter((n) => {
    if (omit.includes(n)) return false;
    const d = ATTRIBUTES[n];
    return d.requirement === 'always' || (d.include !== undefined && include[d.include] === true);
  });
}

export class AttributePlan<E> {
  private readonly extract: Extractor<E>[];
  /** The last event keyed under this plan and its key (a sink reuses it across metrics sharing the plan). */
  keyedEvent: E | undefined = undefined;
  keyedKey = '';
  private trie: KeyTrie = new Map();
  private interned = 0;
  private missedWhileFull = 0;

  /** `overrides` replace an attribute's extractor (e.g. server names bounded for metrics). */
  constructor(
    readonly names: readonly AttributeName[],
    extractors: Extractors<E>,
    what: string,
    overrides: Extractors<E> = {},
  ) {
    this.extract = names.map((n) => {
      const f = overrides[n] ?? extractors[n];
      if (!f) throw new InternalError(`attribute ${n} has no ${what} extractor`);
      return f;
    });
  }

  /**
   * The series key: the values joined, interned, so that the same attribute set yields the same
   * string object. A key built afresh costs a hash of the whole string at every table lookup
   * (~200 ns); an interned one has its hash cached, and finding it walks a trie of the values,
   * whose hashes are cached already (constants, strings shared through the enricher's caches).
   */
  key(ev: E): string {
    const n = this.extract.length;
    if (n === 0) return '';
    let node = this.trie;
    // Every index below is < extract.length (= names.length).
    for (let i = 0; i < n - 1; i++) {
      const v = this.extract[i]!(ev);
      let next = node.get(v) as KeyTrie | undefined;
      if (next === undefined) {
        if (this.interned >= MAX_INTERNED_KEYS) return this.missFull(ev);
        node.set(v, (next = new Map()));
      }
      node = next;
    }
    const v = this.extract[n - 1]!(ev);
    const hit = node.get(v) as string | undefined;
    if (hit !== undefined) return hit;
    if (this.interned >= MAX_INTERNED_KEYS) return this.missFull(ev);
    const k = this.buildKey(ev);
    node.set(v, k);
    this.interned++;
    return k;
  }

  /** The trie is full: build the key; once as many keys missed as it holds, start it afresh (the population moved on). */
  private missFull(ev: E): string {
    if (++this.missedWhileFull >= MAX_INTERNED_KEYS) {
      this.trie = new Map();
      this.interned = 0;
      this.missedWhileFull = 0;
    }
    return this.buildKey(ev);
  }

  /** The key as a fresh string (what key() interns). */
  buildKey(ev: E): string {
    let k = '';
    for (let i = 0; i < this.extract.length; i++) {
      const v = this.extract[i]!(ev); // i < length
      // Keys are built for metrics only, whose attributes are scalars (otel/catalogue.ts keeps arrays off them).
      k += v === undefined ? SEP : (v as string | number | boolean) + SEP;
    }
    return k;
  }

  attributes(ev: E): Attributes {
    const out: Attributes = {};
    for (let i = 0; i < this.extract.length; i++) {
      const v = this.extract[i]!(ev); // i < length, and names is as long as extract
      if (v !== undefined) out[this.names[i]!] = v;
    }
    return out;
  }
}
