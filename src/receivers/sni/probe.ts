// The sni probe's userspace half: load bpf/sni, put its two TC programs on each watched
// interface, keep the watched-ports map current, read the ring, and tell the kernel when a flow's
// capture can stop.
import { statSync } from 'node:fs';
import { rootLogger } from '../../log';
import { BpfObject } from '../../kernel/object';
import { ProbeRing } from '../../kernel/probe-ring';
import { deleteElem, lookupElem, perCpuValueSize, possibleCpus, updateElem } from '../../kernel/maps';
import { checkBtf } from '../../kernel/mounts';
import { sweepClsact } from '../../kernel/tc';
import { TcAttachment, chooseTcMechanism, type TcAttachMode, type TcMechanism } from '../../kernel/tc-attach';
import { bpfObjectPath } from '../../kernel/object-path';
import type { ProbeStats } from '../receiver';
import { programCosts } from '../../kernel/probe-stats';
import { SniDecoder, type SniRecord } from './decoder';
import { allInterfaces, resolveInterfaces, type NetInterface } from './interfaces';
import { SNI_HOLD } from './layout';

export interface SniProbeOptions {
  /** Interface names, or 'all' (every Ethernet/loopback interface of the agent's namespace). */
  interfaces: readonly string[] | 'all';
  ports: readonly number[];
  ringBytes: number;
  pollIntervalMs: number;
  /** flows map capacity. */
  maxFlows: number;
  captureBytes: number;
  captureSegments: number;
  /** With `all`: look for new interfaces this often (0 = only at start). */
  rescanIntervalMs: number;
  /** TCX links (gone with the agent) or clsact filters; `auto` picks TCX where the kernel has it. */
  attachMode: TcAttachMode;
  /** fd of the conn probe's socket-local storage (owners captured at connect), when a connections receiver runs. */
  socketStorageFd?: number;
  objectPath?: string;
}

const log = rootLogger.child('sni');
const PROGRAMS = ['sni_ingress', 'sni_egress'] as const;
/** watched_ports: a u16 server port (host byte order) → u8 1. */
const PORT_KEY_SIZE = 2;
const WATCHED = 1;
/** held_syns: a u64 per CPU, each in an 8-byte slot. */
const U64_SIZE = 8;

export class SniProbe {
  private obj: BpfObject | null = null;
  private ring: ProbeRing | null = null;
  private readonly hooks = new Map<number, { attachment: TcAttachment; name: string }>();
  private mechanism: TcMechanism = 'tcx';
  private readonly decoder = new SniDecoder();
  private ports = new Set<number>();
  private portsFd = -1;
  private flowsFd = -1;
  private holdsFd = -1;
  private heldFd = -1;
  private rescanTimer: NodeJS.Timeout | null = null;
  /** Inode of the network namespace the interfaces live in (the agent's own). */
  readonly netns: number = statSync('/proc/self/ns/net').ino;

  constructor(
    private readonly opts: SniProbeOptions,
    private readonly onRecord: (r: SniRecord) => void,
  ) {}

  start(): void {
    checkBtf();
    this.mechanism = chooseTcMechanism(this.opts.attachMode);
    if (this.mechanism === 'clsact') this.sweep();
    const interfaces = this.opts.interfaces === 'all' ? this.everyInterface() : resolveInterfaces(this.opts.interfaces);
    const obj = BpfObject.open(this.opts.objectPath ?? bpfObjectPath('sni'), {
      maxEntries: { events: this.opts.ringBytes, flows: this.opts.maxFlows },
      rodata: { capture_bytes: this.opts.captureBytes, capture_segments: this.opts.captureSegments },
      reuseMaps: this.opts.socketStorageFd === undefined ? {} : { socks: this.opts.socketStorageFd },
    });
    this.obj = obj;
    try {
      obj.load();
      this.portsFd = obj.map('watched_ports').fd;
      this.flowsFd = obj.map('flows').fd;
      this.holdsFd = obj.map('syn_holds').fd;
      this.heldFd = obj.map('held_syns').fd;
      this.setPorts(this.opts.ports);
      this.ring = new ProbeRing(obj, { probe: 'sni', pollIntervalMs: this.opts.pollIntervalMs, onBatch: (b) => this.decoder.decodeBatch(b, this.onRecord) });
      for (const i of interfaces) this.attach(i);
      this.ring.start();
      if (this.opts.interfaces === 'all' && this.opts.rescanIntervalMs > 0) {
        this.rescanTimer = setInterval(() => this.rescan(), this.opts.rescanIntervalMs);
        this.rescanTimer.unref();
      }
      log.info('sni probe attached', { mechanism: this.mechanism, interfaces: interfaces.map((i) => i.name).join(','), ports: [...this.ports].join(',') });
    } catch (e) {
      this.stop();
      throw e;
    }
  }

  /** clsact filters outlive a killed agent: take back what a previous one left, and say so once. */
  private sweep(): void {
    const swept = sweepClsact(PROGRAMS);
    if (swept.length) {
      log.warn('removed the TC filters a previous netwatch left (it did not stop cleanly; without TCX, filters outlive their process)', {
        filters: swept.map((f) => `${f.interface}/${f.direction}`).join(','),
      });
    }
    if (this.opts.attachMode === 'auto') log.info('this kernel has no TCX (Linux 6.6+): TC programs are attached as clsact filters');
  }

  /** How the programs are attached: tcx or clsact. */
  get attachMechanism(): TcMechanism {
    return this.mechanism;
  }

  private everyInterface(): NetInterface[] {
    const { interfaces, skipped } = allInterfaces();
    if (skipped.length) log.info('interfaces without Ethernet framing, or down with no address, are not watched', { skipped: skipped.join(',') });
    return interfaces;
  }

  private attach(i: NetInterface): void {
    const obj = this.obj!;
    const programs = PROGRAMS.map((name) => ({ fd: obj.programFd(name), direction: name === 'sni_ingress' ? 'ingress' : 'egress', name }) as const);
    this.hooks.set(i.ifindex, { attachment: TcAttachment.attach(this.mechanism, i.ifindex, i.name, programs), name: i.name });
  }

  /** `all`: attach to interfaces that appeared since the last look; forget those that are gone. */
  rescan(): void {
    if (!this.obj) return;
    const now = new Map(allInterfaces().interfaces.map((i) => [i.ifindex, i]));
    for (const [ifindex, h] of [...this.hooks]) {
      const cur = now.get(ifindex);
      if (!cur || cur.name !== h.name) {
        this.hooks.delete(ifindex);
        h.attachment.detach(); // a removed device took its qdisc and filters with it; a renamed one is re-attached below
      }
    }
    for (const [ifindex, i] of now) {
      if (this.hooks.has(ifindex)) continue;
      try {
        this.attach(i);
        log.info('new interface watched', { interface: i.name });
      } catch (e) {
        log.warn('cannot watch new interface', { interface: i.name, error: e as Error });
      }
    }
  }

  /** Make the kernel's watched ports exactly `ports` (no re-attach). */
  setPorts(ports: readonly number[]): void {
    const next = new Set(ports);
    const key = Buffer.alloc(PORT_KEY_SIZE);
    const one = Buffer.from([WATCHED]);
    for (const p of next) {
      if (this.ports.has(p)) continue;
      key.writeUInt16LE(p);
      updateElem(this.portsFd, key, one);
    }
    for (const p of this.ports) {
      if (next.has(p)) continue;
      key.writeUInt16LE(p);
      deleteElem(this.portsFd, key);
    }
    this.ports = next;
  }

  private static portKey(port: number): Buffer {
    const key = Buffer.alloc(PORT_KEY_SIZE);
    key.writeUInt16LE(port);
    return key;
  }

  /** Hold SYNs to `port` (a watched port) that arrive while nothing listens on it: zeros arm it afresh. */
  armHold(port: number): void {
    if (this.holdsFd < 0) return;
    updateElem(this.holdsFd, SniProbe.portKey(port), Buffer.alloc(SNI_HOLD.size));
  }

  /** Let SYNs to `port` pass again (refused by the kernel when nothing listens). */
  disarmHold(port: number): void {
    if (this.holdsFd < 0) return;
    deleteElem(this.holdsFd, SniProbe.portKey(port));
  }

  /** The hold of `port` as the kernel sees it; undefined when not armed. */
  readHold(port: number): { heldSinceNs: number; releasedNs: number } | undefined {
    if (this.holdsFd < 0) return undefined;
    const v = lookupElem(this.holdsFd, SniProbe.portKey(port), SNI_HOLD.size);
    if (!v) return undefined;
    return { heldSinceNs: Number(v.readBigUInt64LE(SNI_HOLD.fields.held_since_ns)), releasedNs: Number(v.readBigUInt64LE(SNI_HOLD.fields.released_ns)) };
  }

  /** SYNs to `port` the hold dropped since the probe loaded (every CPU's count). */
  heldSyns(port: number): number {
    if (this.heldFd < 0) return 0;
    const v = lookupElem(this.heldFd, SniProbe.portKey(port), perCpuValueSize(U64_SIZE));
    if (!v) return 0;
    let n = 0n;
    for (let i = 0; i < possibleCpus(); i++) n += v.readBigUInt64LE(i * U64_SIZE);
    return Number(n);
  }

  /** The flow's hello was parsed or given up: the kernel stops capturing it. */
  finishFlow(mapKey: Buffer): void {
    if (this.flowsFd < 0) return;
    try {
      deleteElem(this.flowsFd, mapKey);
    } catch (e) {
      log.debug('cannot delete flow', { error: e as Error });
    }
  }

  interfaceName(ifindex: number): string {
    return this.hooks.get(ifindex)?.name ?? '';
  }

  /** Interfaces watched now, by name. */
  watched(): string[] {
    return [...this.hooks.values()].map((h) => h.name);
  }

  stats(): ProbeStats {
    return {
      read: this.decoder.decoded,
      lost: this.ring?.lost() ?? 0,
      decodeErrors: this.decoder.decodeErrors + (this.ring?.corrupt ?? 0),
      programs: programCosts(this.obj),
    };
  }

  drain(): void {
    this.ring?.drain();
  }

  stop(): void {
    if (this.rescanTimer) clearInterval(this.rescanTimer);
    this.rescanTimer = null;
    // Filters first: once they are gone nothing writes into the ring we are about to unmap.
    for (const { attachment } of this.hooks.values()) attachment.detach();
    this.hooks.clear();
    this.ring?.close();
    this.obj?.close();
    this.obj = null;
    this.portsFd = this.flowsFd = this.holdsFd = this.heldFd = -1;
  }
}
