// The `sni` receiver: the sni probe's segments reassembled and parsed into ClientHello events, SYNs
// to watched ports as syn events, both enriched and dispatched to the pipelines that name it.
import { isDeepStrictEqual } from 'node:util';
import type { SniReceiverConfig } from './config';
import { nowBootNs } from '../../enrich/clock';
import { rootLogger } from '../../log';
import type { SniPipelineEvent } from '../../pipeline/event';
import type { SynHolds } from '../../pipeline/processor-context';
import type { ProbeStats, Receiver, ReceiverConfig, ReceiverContext } from '../receiver';
import type { SniFlow, SniRecord } from './decoder';
import { SniProbe } from './probe';
import { SniTracker, type SniEvent } from './sni-tracker';

const log = rootLogger.child('sni');
/** How often flows that went quiet are given up, when no segment arrives to do it. */
const EXPIRE_EVERY_MS = 1000;
const NO_STRINGS: readonly string[] = Object.freeze([]);
const NO_NUMBERS: readonly number[] = Object.freeze([]);

/** Settings that only the telemetry sinks read: changing them never needs the probe re-attached. */
const SINK_ONLY: readonly (keyof SniReceiverConfig)[] = ['server_names', 'include', 'metrics', 'events', 'logs'];

export class SniReceiver implements Receiver {
  readonly usesSharedMaps = true;
  private probe: SniProbe | null = null;
  private tracker: SniTracker;
  private expireTimer: NodeJS.Timeout | null = null;
  private cfg: SniReceiverConfig;
  private holds: { probe: SniProbe; holds: SynHolds } | undefined;

  constructor(
    readonly id: string,
    cfg: SniReceiverConfig,
    private readonly ctx: ReceiverContext,
  ) {
    this.cfg = cfg;
    this.tracker = this.newTracker();
  }

  private newTracker(): SniTracker {
    const t = new SniTracker({
      maxFlows: this.cfg.max_flows,
      byteBudget: this.cfg.capture_bytes,
      segmentBudget: this.cfg.capture_segments,
      idleTimeoutNs: this.cfg.idle_timeout_ms * 1e6,
    });
    // A flow given up on needs nothing more from the kernel.
    t.onRejected = (flow) => this.probe?.finishFlow((flow as SniFlow).mapKey);
    return t;
  }

  start(): void {
    const c = this.cfg;
    this.probe = new SniProbe(
      {
        interfaces: c.interfaces,
        ports: c.ports,
        ringBytes: c.ring_buffer_size,
        pollIntervalMs: c.poll_interval_ms,
        maxFlows: c.max_flows,
        captureBytes: c.capture_bytes,
        captureSegments: c.capture_segments,
        rescanIntervalMs: c.rescan_interval_ms,
        attachMode: c.attach_mode,
        socketStorageFd: this.ctx.shared().socketStorage,
      },
      (r) => this.onRecord(r),
    );
    if (this.ctx.shared().socketStorage === undefined)
      log.info('no connections receiver runs: ClientHellos carry no process (only a cgroup on egress)', { receiver: this.id });
    try {
      this.probe.start();
    } catch (e) {
      this.probe = null;
      throw e;
    }
    this.expireTimer = setInterval(() => this.tracker.expire(nowBootNs()), EXPIRE_EVERY_MS);
    this.expireTimer.unref();
  }

  private onRecord(r: SniRecord): void {
    const readAtNs = process.hrtime.bigint();
    if (r.kind === 'syn') {
      this.ctx.dispatch(this.event('syn', r.flow, r.bootNs, readAtNs, undefined));
      return;
    }
    for (const ev of this.tracker.push(r.segment)) {
      const flow = ev.flow as SniFlow;
      this.probe?.finishFlow(flow.mapKey);
      this.ctx.dispatch(this.event('client_hello', flow, ev.timestampNs, readAtNs, ev));
    }
  }

  private event(kind: SniPipelineEvent['kind'], flow: SniFlow, bootNs: number, readAtNs: bigint, hello: SniEvent | undefined): SniPipelineEvent {
    const e = this.ctx.enricher.enrichOwner(flow.pid, '', flow.cgroupId, bootNs);
    return {
      source: 'sni',
      receiver: this.id,
      kind,
      bootNs,
      readAtNs,
      networkType: flow.family === 4 ? 'ipv4' : 'ipv6',
      direction: flow.direction,
      interfaceName: this.probe?.interfaceName(flow.ifindex) ?? '',
      ifindex: flow.ifindex,
      netns: this.probe?.netns ?? 0,
      clientAddress: flow.srcAddress,
      clientPort: flow.srcPort,
      serverAddress: flow.dstAddress,
      serverPort: flow.dstPort,
      pid: flow.pid,
      cgroupId: flow.cgroupId,
      serverName: hello?.sni,
      ech: hello?.ech ?? false,
      alpn: hello?.alpn ?? NO_STRINGS,
      versions: hello?.versions ?? NO_NUMBERS,
      sslv2: hello?.sslv2 ?? false,
      timeUnixMs: e.timeUnixMs,
      process: e.process,
      container: e.container,
      nomad: e.nomad,
    };
  }

  /** Ports are a kernel map: a change of ports alone (and of sink-only settings) applies in place. */
  update(next: ReceiverConfig): boolean {
    if (next.type !== 'sni' || !this.probe) return false;
    const strip = (c: SniReceiverConfig) =>
      Object.fromEntries(Object.entries(c).filter(([k]) => k !== 'ports' && !SINK_ONLY.includes(k as keyof SniReceiverConfig)));
    if (!isDeepStrictEqual(strip(this.cfg), strip(next))) return false;
    this.probe.setPorts(next.ports);
    this.cfg = next;
    log.info('watched ports updated', { receiver: this.id, ports: next.ports.join(',') });
    return true;
  }

  /** The probe's SYN holds while it runs (nomad_autostart hold_syn); the same object for the same probe. */
  synHolds(): SynHolds | undefined {
    const probe = this.probe;
    if (!probe) return undefined;
    if (this.holds?.probe !== probe) {
      this.holds = {
        probe,
        holds: {
          arm: (port) => probe.armHold(port),
          disarm: (port) => probe.disarmHold(port),
          read: (port) => probe.readHold(port),
          held: (port) => probe.heldSyns(port),
        },
      };
    }
    return this.holds.holds;
  }

  stats(): ProbeStats {
    const p = this.probe?.stats() ?? { read: 0, lost: 0, decodeErrors: 0 };
    return { ...p, rejections: this.tracker.stats().rejected };
  }

  /** Interfaces watched now (tests, inspection). */
  interfaces(): string[] {
    return this.probe?.watched() ?? [];
  }

  /** What waits in the ring now goes through the pipelines (flushes, tests). */
  flush(): void {
    this.probe?.drain();
  }

  stop(): void {
    if (this.expireTimer) clearInterval(this.expireTimer);
    this.expireTimer = null;
    this.probe?.stop();
    this.probe = null;
  }
}
