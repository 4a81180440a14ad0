// A Nomad task's job, group and namespace, from the NOMAD_* variables Nomad sets in the task's
// environment (/proc/<pid>/environ); cached per alloc id + task so every pid of the task reuses it.
// Only the six names below are ever decoded: the rest of the environment (NOMAD_TOKEN, secrets) is
// never turned into strings, and the raw bytes are zeroed before the buffer is dropped.
import { readFileSync } from 'node:fs';
import type { NomadTaskRef } from './cgroup';
import { LruCache, LruStats } from './lru';
import type { NomadInfo } from './types';

/** The only environment variables netwatch reads, with the field each one fills. */
const WANTED = [
  ['NOMAD_JOB_NAME=', 'jobName'],
  ['NOMAD_JOB_ID=', 'jobId'],
  ['NOMAD_GROUP_NAME=', 'group'],
  ['NOMAD_NAMESPACE=', 'namespace'],
  ['NOMAD_ALLOC_ID=', 'allocId'],
  ['NOMAD_TASK_NAME=', 'task'],
] as const;
const WANTED_BYTES = WANTED.map(([k]) => Buffer.from(k, 'latin1'));

export type NomadEnv = Partial<Record<(typeof WANTED)[number][1], string>>;

/** The NOMAD_* identity variables of a process; undefined when its environ is unreadable. */
export function readNomadEnv(pid: number, procRoot = '/proc'): NomadEnv | undefined {
  let raw: Buffer;
  try {
    raw = readFileSync(`${procRoot}/${pid}/environ`);
  } catch {
    return undefined;
  }
  const env: NomadEnv = {};
  let start = 0;
  while (start < raw.length) {
    let end = raw.indexOf(0, start);
    if (end < 0) end = raw.length;
    for (let w = 0; w < WANTED_BYTES.length; w++) {
      const key = WANTED_BYTES[w]!; // w < WANTED_BYTES.length
      if (end - start >= key.length && raw.compare(key, 0, key.length, start, start + key.length) === 0) {
        env[WANTED[w]![1]] = raw.toString('utf8', start + key.length, end);
        break;
      }
    }
    start = end + 1;
  }
  raw.fill(0);
  return env;
}

export interface NomadCacheOptions {
  /** Nomad tasks remembered (default 1024). */
  size?: number;
  /** Least time between two environ reads for a task whose environment is not known yet (default 1 s). */
  retryMs?: number;
  procRoot?: string;
}

interface Entry {
  info: NomadInfo;
  complete: boolean;
  triedAtMs: number;
}

export class NomadCache {
  private readonly lru: LruCache<string, Entry>;
  private readonly retryMs: number;
  private readonly procRoot: string;
  private reads = 0;

  constructor(opts: NomadCacheOptions = {}) {
    this.lru = new LruCache(opts.size ?? 1024);
    this.retryMs = opts.retryMs ?? 1_000;
    this.procRoot = opts.procRoot ?? '/proc';
  }

  /**
   * Nomad info for the task whose cgroup `pid` is in; allocId and task alone until its environ is
   * read. With no pid (a counter row), `anyPid` names some process of the task's cgroup.
   */
  get(ref: NomadTaskRef, pid: number, nowMs: number, anyPid?: () => number): NomadInfo {
    let e = this.lru.get(ref.key);
    if (e === undefined) {
      e = { info: Object.freeze({ allocId: ref.allocId, task: ref.task }), complete: false, triedAtMs: -Infinity };
      this.lru.set(ref.key, e);
    }
    if (e.complete || nowMs - e.triedAtMs < this.retryMs) return e.info;
    // The event's own process first; when it has exited already (a short-lived child of the task),
    // any process still in the task's cgroup tells the same NOMAD_* values.
    let tried = false;
    const read = (p: number): NomadEnv | undefined => {
      if (p <= 0) return undefined;
      tried = true;
      this.reads++;
      return readNomadEnv(p, this.procRoot);
    };
    let env = read(pid);
    if (env === undefined) {
      const other = anyPid?.() ?? 0;
      if (other !== pid) env = read(other);
    }
    if (!tried) return e.info;
    e.triedAtMs = nowMs;
    // Trust the environment only when it names this very task (an exec may have replaced it).
    if (env === undefined || env.allocId !== ref.allocId || env.task !== ref.task) return e.info;
    const info: NomadInfo = { allocId: ref.allocId, task: ref.task };
    const job = env.jobName ?? env.jobId;
    if (job !== undefined) info.job = job;
    if (env.group !== undefined) info.group = env.group;
    if (env.namespace !== undefined) info.namespace = env.namespace;
    e.info = Object.freeze(info);
    e.complete = true;
    return e.info;
  }

  stats(): LruStats & { environReads: number } {
    return { ...this.lru.stats(), environReads: this.reads };
  }
}
