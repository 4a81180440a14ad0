// The packet_fate probe's userspace half: load bpf/packet_fate (sharing the conn probe's owner
// map when there is one), attach the hooks the configuration needs, read sampled records from the
// ring, and hand over each interval's counts from the kernel's tables.
import { ConfigError } from '../../errors';
import { rootLogger } from '../../log';
import { EpochRotation } from '../../kernel/epoch-rotation';
import { graceFallbackReason, waitForBpfReadersSync } from '../../kernel/grace';
import { updateElem } from '../../kernel/maps';
import { checkBtf, ensureTracefs } from '../../kernel/mounts';
import { BpfObject, type Link } from '../../kernel/object';
import { ProbeRing } from '../../kernel/probe-ring';
import { bpfObjectPath } from '../../kernel/object-path';
import type { ProbeStats } from '../receiver';
import { programCosts } from '../../kernel/probe-stats';
import { FateDecoder } from './decoder';
import type { FateCount, FateKind, FateSample } from './event';
import { FATE_IGNORABLE_REASONS, FATE_KIND } from './layout';
import { ReasonNames } from './reasons';
import { FateTables } from './tables';

/** The programs each kind needs (function names in packet_fate.bpf.c). */
export const FATE_PROGRAMS: Readonly<Record<FateKind, readonly string[]>> = {
  drop: ['fate_kfree_skb'],
  reset_sent: ['fate_send_reset'],
  reset_received: ['fate_receive_reset'],
  retransmit: ['fate_retransmit', 'fate_retransmit_synack'],
};
const ALL_PROGRAMS = Object.values(FATE_PROGRAMS).flat();
const KIND_VALUE: Readonly<Record<FateKind, number>> = {
  drop: FATE_KIND.DROP,
  reset_sent: FATE_KIND.RESET_SENT,
  reset_received: FATE_KIND.RESET_RECEIVED,
  retransmit: FATE_KIND.RETRANSMIT,
};
// Without a conn probe to share, the object's own owner map stays empty: keep it tiny.
const UNSHARED_OWNERS = 64;
/** The `ignored` map: a u32 drop reason → u8 1 when that reason is neither counted nor sampled. */
const IGNORED_KEY_SIZE = 4;
const IGNORED_YES = 1;

export interface PacketFateProbeOptions {
  /** Ring buffer size in bytes (power of two, page multiple). */
  ringBytes: number;
  pollIntervalMs: number;
  /** Distinct keys each interval's table holds. */
  tableSize: number;
  /** Sampled records per kind and interval. */
  sampleLimit: number;
  /** Kinds whose hooks are attached. */
  kinds: ReadonlySet<FateKind>;
  /** Kinds that are sampled into the ring (a subset of `kinds`). */
  sampledKinds: ReadonlySet<FateKind>;
  /** Drop reason names (without SKB_DROP_REASON_) that are neither counted nor sampled. */
  ignoreReasons: readonly string[];
  /** Key path of ignore_reasons in agent.yaml, to name it in errors. */
  ignoreReasonsPath?: string;
  /** The conn probe's owner map (ReceiverContext.shared().socketOwners). */
  ownersFd?: number;
  wakeupBytes?: number;
  objectPath?: string;
}

export interface FateHandlers {
  onSample(s: FateSample): void;
  /** One interval's rows, after its table was retired (`epoch` identifies the interval). */
  onCounts(rows: readonly FateCount[], epoch: number): void;
}

const log = rootLogger.child('packet_fate');

/** The reason values to ignore; a name this kernel does not have is a configuration error. */
export function resolveIgnoredReasons(names: ReasonNames, wanted: readonly string[], path = 'ignore_reasons'): number[] {
  const problems: string[] = [];
  const values: number[] = [];
  for (const name of wanted) {
    const v = names.dropValue(name);
    if (v === undefined) problems.push(`${path}: "${name}" is not a drop reason of this kernel (enum skb_drop_reason has: ${names.dropNames().join(', ')})`);
    else if (v >= FATE_IGNORABLE_REASONS) problems.push(`${path}: "${name}" (${v}) cannot be ignored: only reasons below ${FATE_IGNORABLE_REASONS} can`);
    else values.push(v);
  }
  if (problems.length) throw new ConfigError(problems);
  return values;
}

export class PacketFateProbe {
  private obj: BpfObject | null = null;
  private links: Link[] = [];
  private ring: ProbeRing | null = null;
  private tables: FateTables | null = null;
  private decoder: FateDecoder | null = null;
  /** An interval being retired: its epoch, waiting for the grace period. */
  private rotation: EpochRotation | null = null;
  private warnedOverflow = false;
  reasons: ReasonNames | null = null;

  constructor(
    private readonly opts: PacketFateProbeOptions,
    private readonly handlers: FateHandlers,
  ) {}

  start(): void {
    checkBtf();
    ensureTracefs();
    const reasons = ReasonNames.fromKernel();
    this.reasons = reasons;
    const ignored = resolveIgnoredReasons(reasons, this.opts.ignoreReasons, this.opts.ignoreReasonsPath);
    const wanted = [...this.opts.kinds].flatMap((k) => FATE_PROGRAMS[k]);
    let sampleKinds = 0;
    for (const k of this.opts.sampledKinds) sampleKinds |= 1 << KIND_VALUE[k];
    const shared = this.opts.ownersFd !== undefined;
    const obj = BpfObject.open(this.opts.objectPath ?? bpfObjectPath('packet_fate'), {
      maxEntries: {
        events: this.opts.ringBytes,
        counts_0: this.opts.tableSize,
        counts_1: this.opts.tableSize,
        ...(shared ? {} : { owners: UNSHARED_OWNERS }),
      },
      rodata: { wakeup_bytes: this.opts.wakeupBytes ?? 0, sample_limit: this.opts.sampleLimit, sample_kinds: sampleKinds },
      skip: ALL_PROGRAMS.filter((p) => !wanted.includes(p)),
      reuseMaps: shared ? { owners: this.opts.ownersFd! } : {},
    });
    this.obj = obj;
    try {
      obj.load();
      const one = Buffer.from([IGNORED_YES]);
      const key = Buffer.alloc(IGNORED_KEY_SIZE);
      for (const v of ignored) {
        key.writeUInt32LE(v);
        updateElem(obj.map('ignored').fd, key, one);
      }
      const decoder = new FateDecoder(reasons);
      this.decoder = decoder;
      const tables = new FateTables(
        { counts: [obj.map('counts_0'), obj.map('counts_1')], overflow: obj.map('overflow'), control: obj.map('control'), sampled: obj.map('sampled') },
        decoder,
        reasons,
      );
      this.tables = tables;
      this.rotation = new EpochRotation(
        () => tables.advance(),
        (epoch) => this.collect(epoch),
      );
      this.ring = new ProbeRing(obj, {
        probe: 'packet_fate',
        pollIntervalMs: this.opts.pollIntervalMs,
        onBatch: (b) => decoder.decodeBatch(b, (s) => this.handlers.onSample(s)),
      });
      for (const p of wanted) this.links.push(obj.attach(p));
      this.ring.start();
      if (!shared) log.info('no connections receiver runs: drops, resets and retransmits carry no pid or process, only the cgroup a socket was created in');
    } catch (e) {
      this.stop();
      throw e;
    }
  }

  /** The epoch the kernel counts (and samples) under now. */
  get epoch(): number {
    return this.tables?.epoch ?? 0;
  }

  /** End the current interval: counts of the retired table are handed over after a grace period. */
  async rotate(): Promise<void> {
    try {
      await this.rotation?.rotate();
    } catch (e) {
      log.error('cannot start a new interval; the current one goes on', { error: e as Error });
    }
  }

  /** End the current interval now, blocking for the grace period (explicit flushes). */
  rotateSync(): void {
    this.rotation?.rotateSync();
  }

  private collect(epoch: number): void {
    if (!this.tables) return;
    let rows: FateCount[];
    try {
      rows = this.tables.collect(epoch);
    } catch (e) {
      log.error('reading the kernel tables failed; this interval is not counted', { epoch, error: e as Error });
      return;
    }
    if (!this.warnedOverflow && rows.some((r) => r.overflow)) {
      this.warnedOverflow = true;
      log.warn(`an interval had more distinct keys than table_size (${this.opts.tableSize}); the rest is counted by reason only`);
    }
    if (graceFallbackReason() !== undefined && !this.warnedGrace) {
      this.warnedGrace = true;
      log.warn(`membarrier is refused (${graceFallbackReason()}); tables are retired after a fixed wait instead`);
    }
    try {
      this.handlers.onCounts(rows, epoch);
    } catch (e) {
      log.error('the consumer of the interval counts threw; they are skipped', { epoch, error: e as Error });
    }
  }
  private warnedGrace = false;

  stats(): ProbeStats {
    return {
      read: this.decoder?.decoded ?? 0,
      lost: this.ring?.lost() ?? 0,
      decodeErrors: (this.decoder?.decodeErrors ?? 0) + (this.ring?.corrupt ?? 0),
      programs: programCosts(this.obj),
    };
  }

  /** Rows that went to the overflow counter (tables full) since start. */
  get overflowedRows(): number {
    return this.tables?.overflowed ?? 0;
  }

  /** Drain the ring now (tests, shutdown). */
  drain(): void {
    this.ring?.drain();
  }

  /** Detach, then hand over everything still counted (both tables) and sampled, then free it all. */
  stop(): void {
    const obj = this.obj;
    if (!obj) return;
    try {
      for (const l of this.links) l.destroy();
      this.links = [];
      if (this.tables) {
        waitForBpfReadersSync(); // programs that started before the detach have finished
        this.rotation?.finishPending();
        this.collect(this.tables.epoch);
      }
      this.ring?.drain();
    } finally {
      this.ring?.close();
      this.tables = null;
      this.rotation = null;
      obj.close();
      this.obj = null;
    }
  }
}
