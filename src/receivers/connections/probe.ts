// The conn probe's userspace half: load bpf/conn, attach its five programs, read its ring,
// seed what existed before start, and account for everything the kernel could not hand over.
import { rootLogger } from '../../log';
import { BpfObject } from '../../kernel/object';
import { bpfObjectPath } from '../../kernel/object-path';
import { ProbeRing } from '../../kernel/probe-ring';
import { updateElem } from '../../kernel/maps';
import { cgroup2Root, checkBtf, ensureTracefs } from '../../kernel/mounts';
import type { ConnEvent } from './event';
import { ConnDecoder } from './decoder';
import { CONN_COMM_LEN, CONN_DIR, SOCK_OWNER } from './layout';
import { existingEvents, scanExisting, seedAlias } from './seed';

export interface ConnProbeOptions {
  /** Ring buffer size in bytes (power of two, page multiple). */
  ringBytes: number;
  pollIntervalMs: number;
  seedExisting: boolean;
  /** Owner/seed map capacity. */
  maxSockets?: number;
  /** Wake the reader only when this many bytes are waiting (0 = whenever it has caught up). */
  wakeupBytes?: number;
  objectPath?: string;
  /** Report only this process / cgroup v2 id (0 = everything): benchmarks, tests, debugging. */
  filterPid?: number;
  filterCgroupId?: number;
  /** Current CLOCK_BOOTTIME in ns, for seeded events. */
  nowBootNs: () => number;
}

export type { ProbeStats } from '../receiver';
import type { ProbeStats } from '../receiver';

const log = rootLogger.child('conn');
/** The seeds map is keyed by a socket's u64 inode. */
const SEED_KEY_SIZE = 8;

export class ConnProbe {
  private obj: BpfObject | null = null;
  private ring: ProbeRing | null = null;
  private readonly decoder = new ConnDecoder();

  constructor(
    private readonly opts: ConnProbeOptions,
    private readonly onEvent: (ev: ConnEvent) => void,
  ) {}

  start(): void {
    checkBtf();
    ensureTracefs();
    const cgroupRoot = cgroup2Root();
    const maxSockets = this.opts.maxSockets ?? 65536;
    const obj = BpfObject.open(this.opts.objectPath ?? bpfObjectPath('conn'), {
      maxEntries: { events: this.opts.ringBytes, owners: maxSockets, seeds: maxSockets },
      rodata: {
        wakeup_bytes: this.opts.wakeupBytes ?? 0,
        filter_tgid: this.opts.filterPid ?? 0,
        filter_cgroup_id: this.opts.filterCgroupId ?? 0,
      },
    });
    this.obj = obj;
    try {
      obj.load();
      obj.attach('conn_state');
      obj.attach('conn_accept4_exit');
      obj.attach('conn_accept_exit');
      obj.attachCgroup('conn_connect4', cgroupRoot);
      obj.attachCgroup('conn_connect6', cgroupRoot);
      const seen = new Set<string>();
      this.ring = new ProbeRing(obj, {
        probe: 'conn',
        pollIntervalMs: this.opts.pollIntervalMs,
        onBatch: (b) =>
          this.decoder.decodeBatch(b, (ev) => {
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
      this.ring.start();
    } catch (e) {
      this.stop();
      throw e;
    }
  }

  private seeding = false;

  private seed(cgroupRoot: string, seen: Set<string>): void {
    const { sockets, owners } = scanExisting(cgroupRoot);
    const fresh = sockets.filter((s) => !seen.has(`${s.netns}|${s.localAddress}|${s.localPort}|${s.remoteAddress}|${s.remotePort}`));
    const seedsFd = this.obj!.map('seeds').fd;
    const key = Buffer.alloc(SEED_KEY_SIZE);
    const val = Buffer.alloc(SOCK_OWNER.size);
    const F = SOCK_OWNER.fields;
    const now = this.opts.nowBootNs();
    const events = existingEvents(fresh, owners, now);
    for (let i = 0; i < fresh.length; i++) {
      const s = fresh[i]!; // i < length; existingEvents gave one event per socket, so events[i] too
      const ev = events[i]!;
      if (s.transport !== 'tcp') continue;
      const o = owners.get(s.inode);
      val.fill(0);
      val.writeBigUInt64LE(BigInt(now), F.start_ns);
      val.writeBigUInt64LE(BigInt(o?.cgroupId ?? 0), F.cgroup_id);
      val.writeBigUInt64LE(seedAlias(s.netns, s.inode), F.alias);
      val.writeUInt32LE(o?.pid ?? 0, F.pid);
      val.writeUInt32LE(o?.pid ?? 0, F.tid);
      val.writeUInt8(ev.direction === 'inbound' ? CONN_DIR.INBOUND : ev.direction === 'outbound' ? CONN_DIR.OUTBOUND : CONN_DIR.UNKNOWN, F.direction);
      val.write((o?.comm ?? '').slice(0, CONN_COMM_LEN - 1), F.comm, 'latin1'); // the last byte stays NUL
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

  stats(): ProbeStats {
    return {
      read: this.decoder.decoded,
      lost: this.ring?.lost() ?? 0,
      decodeErrors: this.decoder.decodeErrors + (this.ring?.corrupt ?? 0),
    };
  }

  /** fd of the socket-owner map while loaded, for probes that attribute packets to sockets. */
  ownersFd(): number | undefined {
    return this.obj?.isLoaded ? this.obj.map('owners').fd : undefined;
  }

  /** Drain the ring now (tests, shutdown). */
  drain(): void {
    this.ring?.drain();
  }

  /** Detach and free everything; stats() keeps the final counts. */
  stop(): void {
    this.ring?.close();
    this.obj?.close();
    this.obj = null;
  }
}

function tupleKey(ev: ConnEvent): string {
  return `${ev.netns}|${ev.localAddress}|${ev.localPort}|${ev.remoteAddress}|${ev.remotePort}`;
}
