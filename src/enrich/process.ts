// pid → ProcessInfo from /proc, behind a bounded LRU. Entries expire (pids get reused) and are
// re-read early when the kernel reports a different executable for the pid (reuse detection).
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
  /** Where procfs is mounted (default /proc; /host/proc when the agent sees the host's from a container). */
  procRoot?: string;
}

interface Entry {
  info: ProcessInfo;
  readAtMs: number;
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

/**
 * Read one process now; never throws. `exeName` is the executable the kernel saw when the event
 * happened ('' when it could not tell): it wins over /proc, whose pid may belong to a newer process
 * by now, and the command line is only taken when /proc still shows that executable. The kernel's
 * comm (a thread name) is never used as the executable name.
 */
export function readProcessInfo(pid: number, exeName: string, procRoot = '/proc'): ProcessInfo {
  const exe = readExecutableName(pid, procRoot);
  const same = exe !== undefined && (exeName === '' || exe === exeName);
  const commandLine = same ? readCommandLine(pid, procRoot) : '';
  return Object.freeze({ pid, executableName: exeName !== '' ? exeName : (exe ?? ''), commandLine });
}

export class ProcessCache {
  private readonly lru: LruCache<number, Entry>;
  private readonly ttlMs: number;
  private readonly procRoot: string;
  private reads = 0;

  constructor(opts: ProcessCacheOptions = {}) {
    this.lru = new LruCache(opts.size ?? 4096);
    this.ttlMs = opts.ttlMs ?? 30_000;
    this.procRoot = opts.procRoot ?? '/proc';
  }

  /**
   * Info for `pid` as of `nowMs` (any monotonic ms clock; the enricher uses the event's boot time).
   * An entry serves events whose kernel-reported executable matches it; a different one means the
   * pid was reused (or exec'd): /proc is read again. What /proc could not name is not remembered.
   */
  get(pid: number, exeName: string, nowMs: number): ProcessInfo {
    const e = this.lru.get(pid);
    if (e !== undefined && nowMs - e.readAtMs < this.ttlMs && (exeName === '' || exeName === e.info.executableName)) return e.info;
    const info = readProcessInfo(pid, exeName, this.procRoot);
    this.reads++;
    if (info.executableName === '') return info; // unknown now, perhaps known on the next event
    if (e !== undefined) {
      e.info = info;
      e.readAtMs = nowMs;
    } else {
      this.lru.set(pid, { info, readAtMs: nowMs });
    }
    return info;
  }

  stats(): LruStats & { procReads: number } {
    return { ...this.lru.stats(), procReads: this.reads };
  }
}
