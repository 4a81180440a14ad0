// SYN holds (rules with `hold_syn`): while a group is at 0, and while it wakes, the sni receivers'
// TC ingress programs drop (do not refuse) SYNs to the rule's syn_to_port ports on which nothing
// listens on this node, so a client's TCP retransmits its SYN (after 1, 3, 7 s, …) instead of
// getting a RST; the first SYN that finds a listener releases the hold in the kernel, at once.
//
// This file decides when a port is armed: when warm state says the group is at 0 (a stopped job
// only when the rule may start it), and never in dry-run. A trigger keeps the hold through the wake
// until a listener appears, the wake ends without waking anything (`failed`), or `wait_timeout`
// passes (`timeout`); after `failed` or `timeout` the port is armed again only once the group has
// been seen up and back at 0, so an unreachable Nomad or a job that never places here does not
// hold clients twice. While the group is up the port is not armed: a service that listens on
// another node, or behind a load balancer, is refused here as before.
import { nowBootNs } from '../../../enrich/clock';
import type { SynHolds } from '../../processor-context';
import { formatMs, now } from './clock';
import type { FlowContext } from './context';
import type { Outcome } from './outcomes';
import type { CompiledRule } from './rules';
import type { Target } from './target';
import type { HoldOutcome } from './telemetry';

/** How often armed ports are read (released? SYNs held?) and arming is reconciled with warm state. */
const POLL_MS = 100;
/** Wake outcomes after which the group is (being) placed: the hold waits for a listener. */
const WAKING: ReadonlySet<Outcome> = new Set(['scaled', 'started', 'already_scaled']);

interface Hold {
  readonly t: Target;
  /** The rule whose ports are held (the first rule of the group with hold_syn) and its ports. */
  readonly rule: CompiledRule;
  readonly ports: readonly number[];
  armed: boolean;
  /** A wake is under way (or done, waiting for a listener) until this time (monotonic ms). */
  until?: number;
  /** After a failed or timed-out hold: not armed again until the group was seen up. */
  blocked: boolean;
  /** The wake's rule (its wait_timeout). */
  wakeRule?: CompiledRule;
}

export class SynHolding {
  private readonly holds: Hold[] = [];
  private readonly byTarget = new Map<Target, Hold>();
  /** Held SYNs already counted, per hold object and port (the kernel's counts are cumulative per probe). */
  private readonly counted = new WeakMap<SynHolds, Map<number, number>>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    targets: readonly Target[],
    private readonly ctx: FlowContext,
    private readonly kernel: () => readonly SynHolds[],
  ) {
    if (ctx.dryRun) return;
    for (const t of targets) {
      const rule = t.rules.find((r) => r.cfg.hold_syn);
      if (!rule) continue;
      const ports = [...new Set(t.rules.filter((r) => r.cfg.hold_syn).flatMap((r) => r.cfg.match.syn_to_port))].sort((a, b) => a - b);
      const h: Hold = { t, rule, ports, armed: false, blocked: false };
      this.holds.push(h);
      this.byTarget.set(t, h);
    }
    if (this.holds.length === 0) return;
    this.timer = setInterval(() => this.poll(), POLL_MS);
    this.timer.unref();
  }

  /** A trigger for `t`: a wake starts (or a cooldown swallows it); an armed hold lasts through it. */
  triggered(t: Target, rule: CompiledRule): void {
    const h = this.byTarget.get(t);
    if (!h?.armed || h.until !== undefined) return;
    h.until = now() + rule.cfg.wait_timeout_ms;
    h.wakeRule = rule;
  }

  /** A wake of `t` ended: unless something is being placed, SYNs are refused again. */
  wakeEnded(t: Target, outcome: Outcome): void {
    const h = this.byTarget.get(t);
    if (!h || h.until === undefined || WAKING.has(outcome)) return;
    this.end(h, outcome === 'cancelled' ? 'cancelled' : 'failed');
  }

  /** Is the group at 0, as warm state knows it now (undefined: not known)? */
  private atZero(h: Hold): boolean | undefined {
    const j = this.ctx.warm.get(h.t.namespace, h.t.job);
    if (!j || j.kind !== 'present') return undefined;
    if (j.stopped) return h.rule.cfg.start_stopped ? true : undefined;
    const count = j.counts.get(h.t.group);
    return count === undefined ? undefined : count === 0;
  }

  poll(): void {
    const kernel = this.kernel();
    for (const h of this.holds) {
      this.count(h, kernel);
      if (h.until !== undefined) {
        const released = this.released(h, kernel);
        if (released) this.end(h, 'listening', released);
        else if (now() >= h.until) this.end(h, 'timeout');
        continue;
      }
      const zero = this.atZero(h);
      if (zero === false) {
        h.blocked = false;
        if (h.armed) this.disarm(h, kernel);
      } else if (zero === true && !h.blocked) {
        this.arm(h, kernel);
      }
    }
  }

  /** Arms every port on every receiver where it is not armed (a receiver restarted by a reload starts empty). */
  private arm(h: Hold, kernel: readonly SynHolds[]): void {
    for (const k of kernel) {
      for (const p of h.ports) {
        try {
          if (!h.armed || k.read(p) === undefined) k.arm(p);
        } catch (e) {
          this.ctx.reports.once(`hold:${h.t.key}`, 'warn', `cannot hold SYNs to port ${p} for ${h.t.label}: ${(e as Error).message}`);
        }
      }
    }
    h.armed = true;
  }

  private disarm(h: Hold, kernel: readonly SynHolds[]): void {
    for (const k of kernel) {
      for (const p of h.ports) {
        try {
          k.disarm(p);
        } catch (e) {
          this.ctx.log.debug(`cannot release the SYN hold of port ${p}`, { error: e as Error });
        }
      }
    }
    h.armed = false;
  }

  /** The earliest hold of `h` a listener released, as [first held, released] (boot ns). */
  private released(h: Hold, kernel: readonly SynHolds[]): { heldSinceNs: number; releasedNs: number } | undefined {
    let out: { heldSinceNs: number; releasedNs: number } | undefined;
    for (const k of kernel) {
      for (const p of h.ports) {
        const s = k.read(p);
        if (s && s.releasedNs > 0 && (!out || s.releasedNs < out.releasedNs)) out = s;
      }
    }
    return out;
  }

  /** The first SYN held of `h` (boot ns; 0 = none). */
  private heldSince(h: Hold, kernel: readonly SynHolds[]): number {
    let first = 0;
    for (const k of kernel) {
      for (const p of h.ports) {
        const s = k.read(p);
        if (s && s.heldSinceNs > 0 && (first === 0 || s.heldSinceNs < first)) first = s.heldSinceNs;
      }
    }
    return first;
  }

  private count(h: Hold, kernel: readonly SynHolds[]): void {
    let n = 0;
    for (const k of kernel) {
      let seen = this.counted.get(k);
      if (!seen) this.counted.set(k, (seen = new Map<number, number>()));
      for (const p of h.ports) {
        const total = k.held(p);
        n += total - (seen.get(p) ?? 0);
        seen.set(p, total);
      }
    }
    if (n > 0) this.ctx.telemetry.heldSyns(h.rule, n);
  }

  private end(h: Hold, outcome: HoldOutcome, released?: { heldSinceNs: number; releasedNs: number }): void {
    const kernel = this.kernel();
    this.count(h, kernel);
    const first = released && released.heldSinceNs > 0 ? released.heldSinceNs : this.heldSince(h, kernel);
    const endNs = released?.releasedNs ?? nowBootNs();
    this.disarm(h, kernel);
    h.until = undefined;
    if (outcome === 'failed' || outcome === 'timeout') h.blocked = true;
    if (first === 0) return; // nothing was held: no client waited
    const seconds = Math.max(0, endNs - first) / 1e9;
    this.ctx.telemetry.holdEnded(h.wakeRule ?? h.rule, outcome, seconds);
    const ports = h.ports.join(', ');
    const words: Record<HoldOutcome, string> = {
      listening: `released SYNs to port ${ports} of ${h.t.label}: something listens after ${formatMs(seconds * 1000)}`,
      failed: `released SYNs to port ${ports} of ${h.t.label} after ${formatMs(seconds * 1000)}: the wake did not start it; they are refused again`,
      timeout: `released SYNs to port ${ports} of ${h.t.label}: nothing listened on this node within wait_timeout (${formatMs((h.wakeRule ?? h.rule).cfg.wait_timeout_ms)}); they are refused again`,
      cancelled: `released SYNs to port ${ports} of ${h.t.label}: the processor stopped`,
    };
    if (outcome === 'listening' || outcome === 'cancelled') this.ctx.log.info(words[outcome], { rule: h.rule.name });
    else this.ctx.log.warn(words[outcome], { rule: h.rule.name });
  }

  /** Stop: every hold ends, every armed port is released. */
  shutdown(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    const kernel = this.kernel();
    for (const h of this.holds) {
      if (h.until !== undefined) this.end(h, 'cancelled');
      else if (h.armed) this.disarm(h, kernel);
    }
  }
}
