// The `packet_fate` receiver: the packet_fate probe, its counts read every interval and its
// samples as they come, enriched with process, container and Nomad task, fed to the pipelines.
import type { PacketFateReceiverConfig } from './config';
import type { PacketFateCountEvent, PacketFateSampleEvent } from '../../pipeline/event';
import type { ProbeStats, Receiver, ReceiverContext } from '../receiver';
import type { FateCount, FateSample } from './event';
import { Kallsyms } from './kallsyms';
import { PacketFateProbe, type PacketFateProbeOptions } from './probe';
import { fateKinds } from './settings';

export class PacketFateReceiver implements Receiver {
  /** Reuses the conn probe's owner map: restarted whenever a connections receiver is. */
  readonly usesSharedMaps = true;
  private probe: PacketFateProbe | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly kallsyms = new Kallsyms();

  constructor(
    readonly id: string,
    private readonly cfg: PacketFateReceiverConfig,
    private readonly ctx: ReceiverContext,
  ) {}

  /** The probe's options for this configuration (the owner map is the one shared when it starts). */
  probeOptions(ownersFd: number | undefined): PacketFateProbeOptions {
    const { kinds, sampled } = fateKinds(this.cfg);
    return {
      ringBytes: this.cfg.ring_buffer_size,
      pollIntervalMs: this.cfg.poll_interval_ms,
      tableSize: this.cfg.table_size,
      sampleLimit: this.cfg.sample_per_interval,
      kinds,
      sampledKinds: sampled,
      ignoreReasons: this.cfg.ignore_reasons,
      ignoreReasonsPath: `receivers.${this.id}.ignore_reasons`,
      ownersFd,
    };
  }

  start(): void {
    const probe = new PacketFateProbe(this.probeOptions(this.ctx.shared().socketOwners), {
      onSample: (s) => this.ctx.dispatch(this.sampleEvent(s)),
      onCounts: (rows) => {
        for (const r of rows) this.ctx.dispatch(this.countEvent(r));
      },
    });
    probe.start();
    this.probe = probe;
    if (fateKinds(this.cfg).sampled.has('drop')) void this.kallsyms.preload();
    this.timer = setInterval(() => void probe.rotate(), this.cfg.interval_ms);
    this.timer.unref();
  }

  // Counts are a few rows per interval and samples at most N: a spread per record is affordable here.
  private countEvent(r: FateCount): PacketFateCountEvent {
    const e = this.ctx.enricher.enrichOwner(r.pid, '', r.cgroupId, 0);
    return { ...r, ...e, source: 'packet_fate', receiver: this.id, record: 'count' };
  }

  private sampleEvent(s: FateSample): PacketFateSampleEvent {
    const e = this.ctx.enricher.enrichOwner(s.pid, '', s.cgroupId, s.bootNs);
    const locationName = s.location !== 0n ? this.kallsyms.symbolize(s.location) : undefined;
    return { ...s, ...e, source: 'packet_fate', receiver: this.id, record: 'sample', locationName };
  }

  /** Read the kernel's counts and the ring now, without waiting for the interval. */
  flush(): void {
    this.probe?.rotateSync();
    this.probe?.drain();
  }

  stats(): ProbeStats {
    return this.probe?.stats() ?? { read: 0, lost: 0, decodeErrors: 0 };
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.probe?.stop(); // hands over what the kernel counted since the last interval
    this.probe = null;
  }
}
