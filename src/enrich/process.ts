// pid → ProcessInfo from /proc, behind a bounded LRU. Entries expire (pids get reused) and are
// re-read early when the kernel reports a different comm for the pid (cheap reuse detection).
import { closeSync, openSync, readlinkSync, readSync } from 'node:fs';
import { basename } from 'node:path';
import { LruCache, LruStats } from './lru';
import type { ProcessInfo } from './types';

export const CMDLINE_MAX_BYTES = 1024;

export interface ProcessCacheOptions {
  /** Most pids remembered (default 4096). */
  size?: number;
  /** How long an entry is trusted before /proc is read again (default 30 s). */
  ttlMs?: number;
  /** After a comm mismatch proved to be the same process, ignore mismatches this long (default 1 s):
   * threads of one process carry different comms, and must not cause a /proc read per event. */
  recheckMs?: number;
  /** Where procfs is mounted (default /proc; /host/proc when the agent sees the host's from a container). */
  procRoot?: string;
}

interface Entry {
  info: ProcessInfo;
  comm: string;
  readAtMs: number;
  checkedAtMs: number;
}

const cmdlineBuf = Buffer.alloc(CMDLINE_MAX_BYTES);

/** Basename of /proc/<pid>/exe, undefined when the process is gone or the link unreadable. */
export function readExecutableName(pid: number, procRoot = '/proc'): string | undefined {
  try {
    // A replaced or deleted binary reads as "/usr/bin/x (deleted)": the name is still the one it ran as.
    return basename(readlinkSync(`${procRoot}/${pid}/exe`).replace(/ \(deleted\)$/, ''));
  } catch {
    return undefined;
  }
}

/** /proc/<pid>/cmdline with NUL separators as spaces, at most CMDLINE_MAX_BYTES; '' when unreadable. */
export function readCommandLine(pid: number, procRoot = '/proc'): string {
  let fd: number;
  try {
    fd = openSync(`${procRoot}/${pid}/cmdline`, 'r');
  } catch {
    return '';
  }
  try {
    let n = 0;
    while (n < CMDLINE_MAX_BYTES) {
      const got = readSync(fd, cmdlineBuf, n, CMDLINE_MAX_BYTES - n, null);
      if (got <= 0) break;
      n += got;
    }
    let end = n;
    while (end > 0 && cmdlineBuf[end - 1] === 0) end--;
    for (let i = 0; i < end; i++) if (cmdlineBuf[i] === 0) cmdlineBuf[i] = 0x20;
    // A cut in the middle of a UTF-8 sequence decodes as U+FFFD; drop it rather than report it.
    const text = cmdlineBuf.toString('utf8', 0, end);
    return n === CMDLINE_MAX_BYTES ? text.replace(/\uFFFD+$/, '') : text;
  } catch {
    return '';
  } finally {
    closeSync(fd);
  }
}

/** Read one process now; never throws: an exited process is named by the kernel's comm. */
export function readProcessInfo(pid: number, comm: string, procRoot = '/proc'): ProcessInfo {
  const exe = readExecutableName(pid, procRoot);
  const commandLine = exe === undefined ? '' : readCommandLine(pid, procRoot);
  return Object.freeze({ pid, executableName: exe ?? comm, commandLine });
}

export class ProcessCache {
  private readonly lru: LruCache<number, Entry>;
  private readonly ttlMs: number;
  private readonly recheckMs: number;
  private readonly procRoot: string;
  private reads = 0;

  constructor(opts: ProcessCacheOptions = {}) {
    this.lru = new LruCache(opts.size ?? 4096);
    this.ttlMs = opts.ttlMs ?? 30_000;
    this.recheckMs = opts.recheckMs ?? 1_000;
    this.procRoot = opts.procRoot ?? '/proc';
  }

  /** Info for `pid` as of `nowMs` (any monotonic ms clock; the enricher uses the event's boot time). */
  get(pid: number, comm: string, nowMs: number): ProcessInfo {
    const e = this.lru.get(pid);
    if (e !== undefined && nowMs - e.readAtMs < this.ttlMs) {
      if (comm === e.comm || comm === '' || nowMs - e.checkedAtMs < this.recheckMs) return e.info;
      const info = readProcessInfo(pid, comm, this.procRoot);
      this.reads++;
      e.comm = comm;
      e.checkedAtMs = nowMs;
      // Same executable and command line: another thread's comm, keep the entry's age; else a new process.
      if (info.executableName !== e.info.executableName || info.commandLine !== e.info.commandLine) {
        e.info = info;
        e.readAtMs = nowMs;
      }
      return e.info;
    }
    const info = readProcessInfo(pid, comm, this.procRoot);
    this.reads++;
    if (e !== undefined) {
      e.info = info;
      e.comm = comm;
      e.readAtMs = e.checkedAtMs = nowMs;
    } else {
      this.lru.set(pid, { info, comm, readAtMs: nowMs, checkedAtMs: nowMs });
    }
    return info;
  }

  stats(): LruStats & { procReads: number } {
    return { ...this.lru.stats(), procReads: this.reads };
  }
}
