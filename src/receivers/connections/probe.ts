// The conn probe's userspace half: load bpf/conn, attach its programs, read its ring, read the
// kernel's counters once per interval (after one pass of the socket iterator over every network
// namespace), seed what existed before start, and account for what the kernel could not hand over.
import { rootLogger } from '../../log';
import { BpfObject, type Link } from '../../kernel/object';
import { bpfObjectPath } from '../../kernel/object-path';
import { EpochRotation } from '../../kernel/epoch-rotation';
import { runIterIn } from '../../kernel/iter';
import { ProbeRing } from '../../kernel/probe-ring';
import { updateElem } from '../../kernel/maps';
import { cgroup2Root, checkBtf, ensureTracefs } from '../../kernel/mounts';
import type { ConnEvent } from './event';
import { ConnDecoder } from './decoder';
import { CONN_DIR, CONN_EXE_KEY, CONN_EXE_NAME_LEN, CONN_HIST_BUCKETS, CONN_OWNER, CONN_SEED } from './layout';
import { existingEvents, scanExisting, seedAlias } from './seed';
import { executableIdentity, type ExeIdentity, KernelNames } from './identity';
import { ConnTables, type CountRow, type TransitionRow } from './tables';
import { otherNetworkNamespaces } from './namespaces';

export interface ConnProbeOptions {
  /** Ring buffer size in bytes (power of two, page multiple). */
  ringBytes: number;
  pollIntervalMs: number;
  seedExisting: boolean;
  /** Capacity of the maps keyed by socket (accepted owners, seeds, the legacy owner map). */
  maxSockets?: number;
  /** Distinct counter rows per interval (per table). */
  tableSize?: number;
  /** Wake the reader only when this many bytes are waiting (0 = whenever it has caught up). */
  wakeupBytes?: number;
  objectPath?: string;
  /** Report only this process / cgroup v2 id (0 = everything): benchmarks, tests, debugging. */
  filterPid?: number;
  filterCgroupId?: number;
  /** Never report this process (the agent's own pid, unless include_self). */
  excludePid?: number;
  /** Which optional attributes split counter rows. */
  keys?: { pid: boolean; peerAddress: boolean; clientPort: boolean };
  /** Histogram bounds, in seconds (ascending; at most CONN_HIST_BUCKETS - 1). */
  durationBounds?: readonly number[];
  rttBounds?: readonly number[];
  /** Write a record per TCP state transition (the state_change log event wants them). */
  emitStates?: boolean;
  /** Fill the `owners` map the packet_fate probe reads (default true; the receiver sets it from ReceiverContext.ownersWanted). */
  fillOwners?: boolean;
  /** Current CLOCK_BOOTTIME in ns, for seeded events. */
  nowBootNs: () => number;
}

export interface ConnCountHandlers {
  onCounts(rows: readonly CountRow[], transitions: readonly TransitionRow[]): void;
}

export type { ProbeStats } from '../receiver';
import type { ProbeStats } from '../receiver';
import { programCosts } from '../../kernel/probe-stats';

const log = rootLogger.child('conn');
/** The seeds map is keyed by a socket's u64 inode. */
const SEED_KEY_SIZE = 8;
const NS_PER_S = 1e9;
const US_PER_S = 1e6;
const PROGRAMS = ['conn_state', 'conn_accept4_exit', 'conn_accept_exit', 'conn_cgroup_mkdir'] as const;

export class ConnProbe {
  private obj: BpfObject | null = null;
  private ring: ProbeRing | null = null;
  private decoder = new ConnDecoder();
  private tables: ConnTables | null = null;
  private rotation: EpochRotation | null = null;
  private iter: (Link & { readonly fd: number }) | null = null;
  private names: KernelNames | null = null;
  private warnedIter = false;
  private warnedOverflow = false;

  constructor(
    private readonly opts: ConnProbeOptions,
    private readonly onEvent: (ev: ConnEvent) => void,
    private readonly counts?: ConnCountHandlers,
  ) {}

  start(): void {
    checkBtf();
    ensureTracefs();
    const cgroupRoot = cgroup2Root();
    const maxSockets = this.opts.maxSockets ?? 65536;
    const tableSize = this.opts.tableSize ?? 8192;
    const durationBounds = this.opts.durationBounds ?? [];
    const rttBounds = this.opts.rttBounds ?? [];
    const keys = this.opts.keys ?? { pid: false, peerAddress: false, clientPort: false };
    const obj = BpfObject.open(this.opts.objectPath ?? bpfObjectPath('conn'), {
      maxEntries: { events: this.opts.ringBytes, owners: maxSockets, seeds: maxSockets, accepted: maxSockets, counts_0: tableSize, counts_1: tableSize },
      rodata: {
        wakeup_bytes: this.opts.wakeupBytes ?? 0,
        filter_tgid: this.opts.filterPid ?? 0,
        filter_cgroup_id: this.opts.filterCgroupId ?? 0,
        exclude_tgid: this.opts.excludePid ?? 0,
        key_pid: keys.pid,
        key_peer_address: keys.peerAddress,
        key_client_port: keys.clientPort,
        duration_bounds: durationBounds.length,
        duration_bounds_ns: durationBounds.map((s) => BigInt(Math.round(s * NS_PER_S))),
        rtt_bounds: rttBounds.length,
        rtt_bounds_us: rttBounds.map((s) => BigInt(Math.round(s * US_PER_S))),
        emit_states: this.opts.emitStates ?? false,
        fill_owners: this.opts.fillOwners ?? true,
      },
    });
    this.obj = obj;
    try {
      obj.load();
      const names = new KernelNames(obj.map('exes'), obj.map('cgroups'));
      this.names = names;
      this.decoder = new ConnDecoder((ino, dev) => names.exe(ino, dev));
      const tables = new ConnTables(
        { counts: [obj.map('counts_0'), obj.map('counts_1')], control: obj.map('control'), transitions: obj.map('transitions') },
        durationBounds.length + 1,
        rttBounds.length + 1,
      );
      this.tables = tables;
      this.rotation = new EpochRotation(
        () => {
          this.iterate();
          return tables.advance();
        },
        (epoch) => this.collect(epoch),
      );
      for (const p of PROGRAMS) obj.attach(p);
      obj.attachCgroup('conn_connect4', cgroupRoot);
      obj.attachCgroup('conn_connect6', cgroupRoot);
      this.iter = obj.attachIter('conn_iter');
      const seen = new Set<string>();
      const decoder = this.decoder;
      this.ring = new ProbeRing(obj, {
        probe: 'conn',
        pollIntervalMs: this.opts.pollIntervalMs,
        onBatch: (b) =>
          decoder.decodeBatch(b, (ev) => {
            if (seen.size < 100_000 && this.seeding) seen.add(tupleKey(ev));
            this.onEvent(ev);
          }),
      });
      if (this.opts.seedExisting) {
        // Drain what arrived since attach first, so a socket born in between is not seeded twice.
        this.seeding = true;
        this.ring.drain();
        this.seeding = false;
        this.seed(cgroupRoot, seen);
      }
      // Sockets that predate the agent get their state now, so their byte counters start from here;
      // they are counted open by the first interval's own pass, not by this one as well.
      tables.baseline(true);
      try {
        this.iterate();
      } finally {
        tables.baseline(false);
      }
      this.ring.start();
    } catch (e) {
      this.stop();
      throw e;
    }
  }

  private seeding = false;

  /** The executable and cgroup names the kernel recorded (for a receiver's enrichment). */
  kernelNames(): KernelNames | null {
    return this.names;
  }

  /** One pass of the socket iterator over every network namespace: open sockets, bytes in flight. */
  private iterate(): void {
    const iter = this.iter;
    if (!iter) return;
    try {
      runIterIn(iter.fd);
      for (const path of otherNetworkNamespaces().values()) runIterIn(iter.fd, path);
    } catch (e) {
      if (!this.warnedIter) log.warn('the socket iterator failed: open connections and bytes in flight are not counted this interval', { error: e as Error });
      this.warnedIter = true;
    }
  }

  /** End the current interval (asynchronously: the retired table is read after a grace period). */
  async rotate(): Promise<void> {
    try {
      await this.rotation?.rotate();
    } catch (e) {
      log.error('cannot start a new interval; the current one goes on', { error: e as Error });
    }
  }

  /** End the current interval now (flushes, stop). */
  rotateSync(): void {
    try {
      this.rotation?.rotateSync();
    } catch (e) {
      log.error('cannot read the kernel counters now', { error: e as Error });
    }
  }

  private collect(epoch: number): void {
    const tables = this.tables;
    if (!tables || !this.counts) return;
    let rows: CountRow[];
    let transitions: TransitionRow[];
    try {
      rows = tables.collect(epoch);
      transitions = tables.readTransitions();
    } catch (e) {
      log.error('reading the kernel counters failed; this interval is not counted', { epoch, error: e as Error });
      return;
    }
    if (!this.warnedOverflow && rows.some((r) => r.kind === 'overflow')) {
      this.warnedOverflow = true;
      log.warn(`an interval had more distinct attribute sets than table_size (${this.opts.tableSize ?? 8192}); the rest is counted without attributes`);
    }
    try {
      this.counts.onCounts(rows, transitions);
    } catch (e) {
      log.error('the consumer of the kernel counters threw; this interval is skipped', { epoch, error: e as Error });
    }
  }

  private seed(cgroupRoot: string, seen: Set<string>): void {
    const { sockets, owners } = scanExisting(cgroupRoot);
    const fresh = sockets.filter((s) => !seen.has(`${s.netns}|${s.localAddress}|${s.localPort}|${s.remoteAddress}|${s.remotePort}`));
    const seedsFd = this.obj!.map('seeds').fd;
    const key = Buffer.alloc(SEED_KEY_SIZE);
    const val = Buffer.alloc(CONN_SEED.size);
    const F = CONN_SEED.fields;
    const O = CONN_OWNER.fields;
    const now = this.opts.nowBootNs();
    const events = existingEvents(fresh, owners, now);
    const exes = new Map<number, ExeIdentity | undefined>();
    for (let i = 0; i < fresh.length; i++) {
      const s = fresh[i]!; // i < length; existingEvents gave one event per socket, so events[i] too
      const ev = events[i]!;
      if (s.transport !== 'tcp') continue;
      const o = owners.get(s.inode);
      const pid = o?.pid ?? 0;
      if (pid > 0 && !exes.has(pid)) exes.set(pid, this.rememberExe(pid));
      const exe = exes.get(pid);
      val.fill(0);
      val.writeBigUInt64LE(BigInt(now), F.start_ns);
      val.writeBigUInt64LE(seedAlias(s.netns, s.inode), F.alias);
      val.writeBigUInt64LE(BigInt(o?.cgroupId ?? 0), F.owner + O.cgroup_id);
      val.writeBigUInt64LE(BigInt(exe?.ino ?? 0), F.owner + O.exe_ino);
      val.writeUInt32LE(exe?.dev ?? 0, F.owner + O.exe_dev);
      val.writeUInt32LE(pid, F.owner + O.tgid);
      val.writeUInt32LE(pid, F.owner + O.tid);
      val.writeUInt8(ev.direction === 'inbound' ? CONN_DIR.INBOUND : ev.direction === 'outbound' ? CONN_DIR.OUTBOUND : CONN_DIR.UNKNOWN, F.direction);
      key.writeBigUInt64LE(BigInt(s.inode));
      try {
        updateElem(seedsFd, key, val);
      } catch (e) {
        log.warn('cannot seed socket owner', { inode: s.inode, error: e as Error });
      }
    }
    for (const ev of events) this.onEvent(ev);
    log.info('seeded existing sockets', { sockets: events.length });
  }

  /** A live process's executable as the kernel keys it, stored in the kernel's table of names. */
  private rememberExe(pid: number): ExeIdentity | undefined {
    const exe = executableIdentity(pid);
    if (!exe) return undefined;
    const k = Buffer.alloc(CONN_EXE_KEY.size);
    k.writeBigUInt64LE(BigInt(exe.ino), CONN_EXE_KEY.fields.ino);
    k.writeUInt32LE(exe.dev, CONN_EXE_KEY.fields.dev);
    const v = Buffer.alloc(CONN_EXE_NAME_LEN);
    v.write(exe.name, 0, CONN_EXE_NAME_LEN - 1, 'utf8');
    try {
      updateElem(this.obj!.map('exes').fd, k, v);
      return exe;
    } catch {
      return undefined;
    }
  }

  stats(): ProbeStats {
    return {
      read: this.decoder.decoded,
      lost: this.ring?.lost() ?? 0,
      decodeErrors: this.decoder.decodeErrors + (this.ring?.corrupt ?? 0),
      programs: programCosts(this.obj),
    };
  }

  /** Counter rows that went to a table's overflow row since start. */
  get overflowedRows(): number {
    return this.tables?.overflowed ?? 0;
  }

  /** fd of the socket-owner map while loaded, for probes that attribute packets to sockets. */
  ownersFd(): number | undefined {
    return this.obj?.isLoaded ? this.obj.map('owners').fd : undefined;
  }

  /** The socket-local storage (owners captured at connect and accept), for the sni probe. */
  socketStorageFd(): number | undefined {
    return this.obj?.isLoaded ? this.obj.map('socks').fd : undefined;
  }

  /** Drain the ring now (tests, shutdown). */
  drain(): void {
    this.ring?.drain();
  }

  /**
   * Detach first, so nothing is counted or written after this point; then hand over what the ring
   * and the counters hold (the same connections, so records and counts agree), then free
   * everything. stats() keeps the final counts.
   */
  stop(): void {
    if (this.ring && this.rotation) {
      this.obj?.detach(['conn_iter']); // the iterator is what reads the open sockets' bytes at the last rotation
      // The rotation waits out a grace period (programs still running finish), so the ring is complete after it.
      this.rotateSync();
      this.ring.drain();
    }
    this.ring?.close();
    this.obj?.close();
    this.obj = null;
    this.iter = null;
    this.rotation = null;
    this.tables = null;
  }
}

function tupleKey(ev: ConnEvent): string {
  return `${ev.netns}|${ev.localAddress}|${ev.localPort}|${ev.remoteAddress}|${ev.remotePort}`;
}

export { CONN_HIST_BUCKETS };
