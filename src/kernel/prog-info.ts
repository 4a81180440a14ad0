// What the kernel says about a loaded BPF program (BPF_OBJ_GET_INFO_BY_FD), and which processes
// hold a descriptor of it — enough to recognise a program a dead agent left attached.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { KernelError } from '../errors';
import { describeErrno, lastErrno } from './errno';
import { bpf, c } from './libbpf';

// struct bpf_prog_info (include/uapi/linux/bpf.h): the offsets of the fields read here.
const INFO = {
  /** sizeof(struct bpf_prog_info) up to attach_btf_id (kernel 5.16+); older kernels copy less. */
  size: 232,
  id: 4,
  name: 64,
  /** char name[BPF_OBJ_NAME_LEN]. */
  nameLen: 16,
  runTimeNs: 192,
  runCnt: 200,
} as const;

export interface ProgramInfo {
  id: number;
  /** The program's name as the kernel keeps it (truncated to 15 characters). */
  name: string;
  /** Run-time statistics, non-zero only while kernel.bpf_stats_enabled is on. */
  runTimeNs: bigint;
  runCount: bigint;
}

/** Info of the program behind descriptor `fd` (`what` names it in the error). */
export function programInfoOfFd(fd: number, what: string): ProgramInfo {
  const info = Buffer.alloc(INFO.size);
  const len = [INFO.size];
  const ret = bpf.obj_get_info_by_fd(fd, info, len) as number;
  if (ret < 0) throw new KernelError(`reading the info of BPF program ${what} failed: ${describeErrno(-ret || lastErrno())}`, -ret, 'bpf_obj_get_info_by_fd');
  const raw = info.subarray(INFO.name, INFO.name + INFO.nameLen);
  const end = raw.indexOf(0);
  return {
    id: info.readUInt32LE(INFO.id),
    name: raw.subarray(0, end < 0 ? raw.length : end).toString('latin1'),
    runTimeNs: info.readBigUInt64LE(INFO.runTimeNs),
    runCount: info.readBigUInt64LE(INFO.runCnt),
  };
}

/** Info of the program with this id, or undefined when it no longer exists. */
export function programInfo(id: number): ProgramInfo | undefined {
  const fd = bpf.prog_get_fd_by_id(id) as number;
  if (fd < 0) return undefined;
  try {
    return programInfoOfFd(fd, String(id));
  } finally {
    c.close(fd);
  }
}

const BPF_STATS_SYSCTL = '/proc/sys/kernel/bpf_stats_enabled';

/**
 * Whether the kernel keeps run-time statistics of BPF programs (kernel.bpf_stats_enabled, or a
 * BPF_ENABLE_STATS descriptor someone holds, which the sysctl reflects). They cost every program
 * run two clock reads, so the agent reads them when an operator turned them on and never turns
 * them on itself.
 */
export function bpfStatsEnabled(): boolean {
  try {
    return readFileSync(BPF_STATS_SYSCTL, 'utf8').trim() !== '0';
  } catch {
    return false; // no such sysctl (kernel < 5.8): no statistics
  }
}

/**
 * Whether a live process other than this one holds a descriptor of program `id` (its fdinfo names
 * the prog_id): a program nobody holds was left attached by a process that is gone.
 */
export function programHeldByAnotherProcess(id: number): boolean {
  const self = String(process.pid);
  const needle = new RegExp(`^prog_id:\\s+${id}$`, 'm');
  for (const pid of readdirSync('/proc')) {
    if (pid === self || !/^\d+$/.test(pid)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue; // exited meanwhile
    }
    for (const fd of fds) {
      try {
        // Program and link descriptors name the program in their fdinfo; nothing else does.
        const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
        if (target !== 'anon_inode:bpf-prog' && target !== 'anon_inode:bpf_link') continue;
        if (needle.test(readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'))) return true;
      } catch {
        // closed meanwhile
      }
    }
  }
  return false;
}
