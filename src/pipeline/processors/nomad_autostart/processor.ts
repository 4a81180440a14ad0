// The nomad_autostart processor: it observes events (it never drops one), matches them against
// its rules, and hands triggers to the wake/sleep flows, which call Nomad asynchronously.
// process() is synchronous and cheap: an index lookup per event, a table update per trigger.
import { hostname } from 'node:os';
import type { NomadAutostartProcessorConfig } from '../../../config/types';
import { rootLogger, type Logger } from '../../../log';
import type { PipelineEvent, Processor } from '../../event';
import type { ProcessorContext } from '../../processor-context';
import { Autostart } from './autostart';
import { NomadClient, resolveNomadSettings } from './client';
import { OpenConnections, type OpenConnectionsState } from './connections';
import { CompiledRule, RuleIndex } from './rules';
import { Target, type TargetCarry } from './target';
import { AutostartTelemetry, type AutostartTelemetryState } from './telemetry';
import type { WarmJob } from './warm-state';
import type { WriteMode } from './write-mode';

/** What a reloaded instance takes over from its predecessor. */
interface Carry {
  telemetry: AutostartTelemetryState;
  connections: OpenConnectionsState;
  targets: ReadonlyMap<string, TargetCarry>;
}

export class NomadAutostartProcessor implements Processor {
  readonly id: string;
  readonly targets = new Map<string, Target>();
  private readonly index: RuleIndex;
  private readonly telemetry: AutostartTelemetry;
  private readonly connections: OpenConnections;
  private readonly autostart: Autostart | undefined;
  private readonly portTargets = new Map<number, Target[]>();
  private readonly tracksConnections: boolean;
  private readonly log: Logger;

  constructor(
    readonly cfg: NomadAutostartProcessorConfig,
    ctx: ProcessorContext,
  ) {
    this.id = cfg.id;
    this.log = rootLogger.child(cfg.id);
    const previous = ctx.previous instanceof NomadAutostartProcessor ? ctx.previous.carry() : undefined;
    const rules = cfg.rules.map((r) => new CompiledRule(r));
    this.index = new RuleIndex(rules);
    this.telemetry = new AutostartTelemetry(cfg.id, ctx.telemetry, previous?.telemetry);

    for (const r of rules) {
      let t = this.targets.get(r.target);
      if (!t) {
        const same = rules.filter((x) => x.target === r.target);
        t = new Target(r.target, r.cfg.namespace, r.cfg.job, r.cfg.group, same);
        this.targets.set(r.target, t);
      }
      if (r.cfg.idle_after_ms > 0) {
        for (const p of r.idlePorts) {
          const list = this.portTargets.get(p) ?? [];
          if (!list.includes(t)) list.push(t);
          this.portTargets.set(p, list);
        }
      }
    }
    this.tracksConnections = this.portTargets.size > 0;
    this.connections = new OpenConnections(
      new Set(this.portTargets.keys()),
      (port) => this.autostart?.connectionsClosed(this.portTargets.get(port) ?? []),
      previous?.connections,
      (port) => this.autostart?.connectionsOpened(this.portTargets.get(port) ?? []),
    );

    const agentHost = cfg.agent_host !== '' ? cfg.agent_host : hostname();
    let client: NomadClient | undefined;
    try {
      client = new NomadClient(
        resolveNomadSettings({
          address: cfg.address,
          token: cfg.token,
          tokenFile: cfg.token_file,
          namespace: cfg.namespace,
          region: cfg.region,
          httpAuth: cfg.http_auth,
          caCert: cfg.tls.ca_cert,
          caPath: cfg.tls.ca_path,
          clientCert: cfg.tls.client_cert,
          clientKey: cfg.tls.client_key,
          tlsServerName: cfg.tls.server_name,
          skipVerify: cfg.tls.skip_verify,
          timeoutMs: cfg.timeout_ms,
        }),
      );
    } catch (e) {
      // A bad TLS file must not take the agent (or a reload) down: the rules just do nothing.
      this.log.error('cannot set up the Nomad client; every rule of this processor does nothing until the configuration is fixed and reloaded', {
        error: e as Error,
      });
    }
    if (client) {
      this.autostart = new Autostart({
        cfg,
        client,
        telemetry: this.telemetry,
        connections: this.connections,
        log: this.log,
        agentHost,
        node: cfg.cluster.node !== '' ? cfg.cluster.node : agentHost,
        targets: [...this.targets.values()],
        synHolds: ctx.synHolds ?? (() => []),
      });
      if (previous) this.adoptTargets(previous.targets);
      else this.autostart.adoptAtStart([...this.targets.values()]);
      this.autostart.publishActivity(!previous);
    }
  }

  process(ev: PipelineEvent): boolean {
    if (ev.source === 'connections' && this.tracksConnections) this.connections.observe(ev);
    if (ev.source !== 'sni' && ev.source !== 'connections') return true;
    const kind = this.index.match(ev);
    if (kind === undefined) return true;
    // The packet's ring record time for sni events; connection events carry none, so now.
    const atNs = ev.source === 'sni' ? ev.readAtNs : process.hrtime.bigint();
    const matched = this.index.matched;
    for (let k = 0; k < matched.length; k++) {
      const rule = matched[k]!; // k < length
      this.telemetry.trigger(rule, kind);
      if (rule.disabled || this.autostart === undefined) continue;
      this.autostart.trigger(this.targets.get(rule.target)!, rule, kind, ev, atNs);
    }
    return true;
  }

  /** Resolves when no wake or sleep is under way. */
  settled(): Promise<void> {
    return this.autostart?.settled() ?? Promise.resolve();
  }

  /**
   * Resolves once the processor knows how to write to Nomad and, when that is one check-and-set
   * per wake, has read its jobs and follows their event streams (tests, benchmarks).
   */
  ready(): Promise<void> {
    return this.autostart?.ready() ?? Promise.resolve();
  }

  /** What the processor knows of a job without asking Nomad, and whether a wake would decide from it. */
  warmJob(namespace: string, job: string): { job: WarmJob | undefined; current: boolean } {
    return this.autostart?.warmJob(namespace, job) ?? { job: undefined, current: false };
  }

  /** How wakes write to Nomad now: one check-and-set from warm state, or read then write. */
  get writeMode(): WriteMode | undefined {
    return this.autostart?.writeMode;
  }

  /** Open connections (seen by this processor) to a port it watches for idleness. */
  openConnections(port: number): number {
    return this.connections.open(port);
  }

  private carry(): Carry {
    return {
      telemetry: this.telemetry.state(),
      connections: this.connections.state(),
      targets: new Map([...this.targets].map(([k, t]) => [k, t.carry()])),
    };
  }

  /** After a reload: cooldowns and what this agent woke carry over; disabled rules and blocked sleeps start fresh. */
  private adoptTargets(previous: ReadonlyMap<string, TargetCarry>): void {
    for (const [key, c] of previous) {
      const t = this.targets.get(key);
      if (!t) continue;
      t.cooldownUntil = c.cooldownUntil;
      t.lastActivityMs = c.lastActivityMs;
      const rule = c.woken && t.rules.find((r) => r.name === c.woken!.rule && r.cfg.idle_after_ms > 0);
      if (rule && c.woken) {
        t.wokeUp({ rule, count: c.woken.count });
        this.autostart!.armSleep(t);
      }
    }
  }

  async shutdown(): Promise<void> {
    await this.autostart?.shutdown(this.targets.values());
  }
}
