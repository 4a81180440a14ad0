// nomad_autostart rules compiled once: which events trigger them (an index by server name and
// port, so an event costs a map lookup, not a scan of every rule) and which clients may.
import type { AutostartRule } from '../../../config/types';
import type { ConnPipelineEvent, SniPipelineEvent } from '../../event';
import { compileCidrs } from '../filter/cidr';
import { ownerChecks } from '../filter/owner';
import { compileServerNames, matchesSuffix } from './server-names';

export type TriggerKind = 'sni' | 'syn' | 'connect';

/** The events that can trigger a rule: the sni receiver's and the connections receiver's. */
export type TriggerEvent = SniPipelineEvent | ConnPipelineEvent;

type ClientCheck = (ev: TriggerEvent) => boolean;

/** The client of the traffic: the TLS/TCP client for sni events, the connecting socket for connects. */
export const clientAddressOf = (ev: TriggerEvent): string => (ev.source === 'sni' ? ev.clientAddress : ev.localAddress);

export const targetKey = (namespace: string, job: string, group: string): string => `${namespace}\u0000${job}\u0000${group}`;

export class CompiledRule {
  readonly name: string;
  readonly target: string;
  /** Set by a 403: the token may not do what this rule needs, until the configuration is reloaded. */
  disabled = false;
  private readonly sniPorts: ReadonlySet<number>;
  private readonly interfaces: ReadonlySet<string>;
  private readonly connect: readonly { port: number; match: ((a: string) => boolean) | undefined }[];
  private readonly clientChecks: readonly ClientCheck[];
  /** Ports whose open connections keep the group awake: ports, syn_to_port and connect_to ports. */
  readonly idlePorts: ReadonlySet<number>;

  constructor(readonly cfg: AutostartRule) {
    this.name = cfg.name;
    this.target = targetKey(cfg.namespace, cfg.job, cfg.group);
    const m = cfg.match;
    this.sniPorts = new Set(m.ports);
    this.interfaces = new Set(m.interface);
    this.connect = m.connect_to.map((d) => ({ port: d.port, match: d.cidr === '' ? undefined : compileCidrs([d.cidr]) }));
    this.idlePorts = new Set([...m.ports, ...m.syn_to_port, ...m.connect_to.map((d) => d.port)]);
    const checks: ClientCheck[] = [];
    if (m.cidrs.length) {
      const inRange = compileCidrs(m.cidrs);
      checks.push((ev) => inRange(clientAddressOf(ev)));
    }
    checks.push(...ownerChecks<TriggerEvent>(m));
    if (m.nomad_namespace.length) {
      const named = new Set(m.nomad_namespace);
      checks.push((ev) => ev.nomad?.namespace !== undefined && named.has(ev.nomad.namespace));
    }
    this.clientChecks = checks;
  }

  private clientMatches(ev: TriggerEvent): boolean {
    for (let k = 0; k < this.clientChecks.length; k++) if (!this.clientChecks[k]!(ev)) return false; // k < length
    return true;
  }

  /** The index found the name; the rest of the rule must hold too. */
  helloMatches(ev: SniPipelineEvent): boolean {
    if (this.sniPorts.size > 0 && !this.sniPorts.has(ev.serverPort)) return false;
    if (this.interfaces.size > 0 && !this.interfaces.has(ev.interfaceName)) return false;
    return this.clientMatches(ev);
  }

  /** The index found the port. */
  synMatches(ev: SniPipelineEvent): boolean {
    if (this.interfaces.size > 0 && !this.interfaces.has(ev.interfaceName)) return false;
    return this.clientMatches(ev);
  }

  /** The index found the port; the address must be one of its destinations. */
  connectMatches(ev: ConnPipelineEvent): boolean {
    let hit = false;
    for (let k = 0; k < this.connect.length && !hit; k++) {
      const d = this.connect[k]!; // k < length
      hit = d.port === ev.remotePort && (d.match === undefined || d.match(ev.remoteAddress));
    }
    return hit && this.clientMatches(ev);
  }
}

function push<K>(map: Map<K, CompiledRule[]>, key: K, rule: CompiledRule): void {
  const list = map.get(key);
  if (list) {
    if (!list.includes(rule)) list.push(rule);
  } else map.set(key, [rule]);
}

/** Rules by what can trigger them. */
export class RuleIndex {
  private readonly byName = new Map<string, CompiledRule[]>();
  private readonly wildcards: { rule: CompiledRule; suffixes: readonly string[] }[] = [];
  private readonly bySynPort = new Map<number, CompiledRule[]>();
  private readonly byConnectPort = new Map<number, CompiledRule[]>();
  /** The rules the last match() call found; reused per event (process() is synchronous). */
  readonly matched: CompiledRule[] = [];

  constructor(readonly rules: readonly CompiledRule[]) {
    for (const r of rules) {
      const names = compileServerNames(r.cfg.match.sni);
      for (const n of names.exact) push(this.byName, n, r);
      if (names.suffixes.length) this.wildcards.push({ rule: r, suffixes: names.suffixes });
      for (const p of r.cfg.match.syn_to_port) push(this.bySynPort, p, r);
      for (const d of r.cfg.match.connect_to) push(this.byConnectPort, d.port, r);
    }
  }

  get hasConnectTriggers(): boolean {
    return this.byConnectPort.size > 0;
  }

  /** The kind of trigger the event is for the rules it leaves in `matched`, or undefined for none. */
  match(ev: TriggerEvent): TriggerKind | undefined {
    const out = this.matched;
    out.length = 0;
    if (ev.source === 'sni') {
      if (ev.kind === 'client_hello') {
        const name = ev.serverName;
        if (name === undefined) return undefined;
        const exact = this.byName.get(name);
        // Each loop below reads index k < length.
        if (exact) for (let k = 0; k < exact.length; k++) if (exact[k]!.helloMatches(ev)) out.push(exact[k]!);
        for (let k = 0; k < this.wildcards.length; k++) {
          const w = this.wildcards[k]!;
          if (!out.includes(w.rule) && matchesSuffix(name, w.suffixes) && w.rule.helloMatches(ev)) out.push(w.rule);
        }
        return out.length ? 'sni' : undefined;
      }
      const list = this.bySynPort.get(ev.serverPort);
      if (list) for (let k = 0; k < list.length; k++) if (list[k]!.synMatches(ev)) out.push(list[k]!);
      return out.length ? 'syn' : undefined;
    }
    if (ev.kind !== 'connect' || ev.direction !== 'outbound') return undefined;
    const list = this.byConnectPort.get(ev.remotePort);
    if (list) for (let k = 0; k < list.length; k++) if (list[k]!.connectMatches(ev)) out.push(list[k]!); // k < length
    return out.length ? 'connect' : undefined;
  }
}
