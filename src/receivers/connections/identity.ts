// Names the kernel recorded for the agent: executables by (inode, device), filled where an owner
// was captured, and cgroup paths by id, filled by cgroup_mkdir the moment a cgroup exists. Both
// outlive what they name (LRU, never deleted at exit or rmdir), so an event or a counter row read
// after the process exited or the cgroup was removed is still named. Misses are not remembered.
import { readlinkSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { lookupElem } from '../../kernel/maps';
import type { BpfMap } from '../../kernel/object';
import { CONN_CGROUP_PATH_LEN, CONN_EXE_KEY, CONN_EXE_NAME_LEN } from './layout';

/** Names remembered on the agent's side (a bound on memory; the kernel's table is the reference). */
const MAX_CACHED = 16_384;
const CGROUP_KEY_SIZE = 8;

/** A NUL-terminated UTF-8 string (file names are bytes; the kernel stores them as they are). */
function utf8z(b: Buffer): string {
  const end = b.indexOf(0);
  return b.toString('utf8', 0, end < 0 ? b.length : end);
}

export class KernelNames {
  private readonly exes = new Map<string, string>();
  private readonly exeKey = Buffer.alloc(CONN_EXE_KEY.size);
  private readonly cgroupKey = Buffer.alloc(CGROUP_KEY_SIZE);
  /** Lookups that found nothing (exited before the name was stored, or an LRU eviction). */
  exeMisses = 0;

  constructor(
    private readonly exeMap: BpfMap,
    private readonly cgroupMap: BpfMap,
  ) {}

  /** The executable's file name, '' when the kernel has none for it (ino 0: a kernel thread). */
  exe(ino: number, dev: number): string {
    if (ino === 0) return '';
    const k = `${dev}:${ino}`;
    const hit = this.exes.get(k);
    if (hit !== undefined) return hit;
    this.exeKey.fill(0);
    this.exeKey.writeBigUInt64LE(BigInt(ino), CONN_EXE_KEY.fields.ino);
    this.exeKey.writeUInt32LE(dev, CONN_EXE_KEY.fields.dev);
    const v = lookupElem(this.exeMap.fd, this.exeKey, CONN_EXE_NAME_LEN);
    if (v === undefined) {
      this.exeMisses++;
      return '';
    }
    const name = utf8z(v);
    if (this.exes.size >= MAX_CACHED) this.exes.clear();
    this.exes.set(k, name);
    return name;
  }

  /** A cgroup v2 path relative to the mount ("/system.slice/x.scope"), undefined when not recorded. */
  cgroupPath(id: number): string | undefined {
    this.cgroupKey.writeBigUInt64LE(BigInt(id));
    const v = lookupElem(this.cgroupMap.fd, this.cgroupKey, CONN_CGROUP_PATH_LEN);
    if (v === undefined) return undefined;
    const p = utf8z(v);
    return p === '' ? undefined : p.startsWith('/') ? p : `/${p}`;
  }
}

/** An executable as the kernel keys it: (inode, device as the kernel encodes it), and its name. */
export interface ExeIdentity {
  ino: number;
  dev: number;
  name: string;
}

/**
 * The kernel's s_dev (MKDEV: major << 20 | minor) from stat's st_dev (glibc's encoding: minor's
 * low byte, then major, then minor's upper bits), so /proc-found executables key like the kernel's.
 */
export function kernelDev(statDev: number): number {
  const major = Math.floor(statDev / 256) & 0xfff;
  const minor = (statDev & 0xff) | (Math.floor(statDev / 4096) & 0xfff00);
  return ((major << 20) | minor) >>> 0;
}

/** The executable of a live process, from /proc/<pid>/exe; undefined when it is gone or unreadable. */
export function executableIdentity(pid: number, procRoot = '/proc'): ExeIdentity | undefined {
  try {
    const st = statSync(`${procRoot}/${pid}/exe`);
    const name = basename(readlinkSync(`${procRoot}/${pid}/exe`).replace(/ \(deleted\)$/, ''));
    return { ino: st.ino, dev: kernelDev(st.dev), name };
  } catch {
    return undefined;
  }
}
