// tracefs, bpffs and cgroup v2: find them in /proc/self/mountinfo, mount what is missing.
import { existsSync, readFileSync } from 'node:fs';
import { KernelFeatureError } from '../errors';
import { rootLogger } from '../log';
import { c } from './libbpf';
import { describeErrno, lastErrno } from './errno';

export interface MountEntry {
  mountPoint: string;
  fsType: string;
}

/** proc(5) mountinfo: the separator before the filesystem type, and the mount point's field index. */
const MOUNTINFO_SEPARATOR = ' - ';
const MOUNTINFO_MOUNT_POINT = 4;

export function readMounts(text = readFileSync('/proc/self/mountinfo', 'utf8')): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    // mountinfo: id parent maj:min root mountpoint opts [optional...] - fstype source superopts
    const sep = line.indexOf(MOUNTINFO_SEPARATOR);
    if (sep < 0) continue;
    const left = line.slice(0, sep).split(' ');
    const fsType = line.slice(sep + MOUNTINFO_SEPARATOR.length).split(' ')[0]!; // split always gives one part
    const mountPoint = left[MOUNTINFO_MOUNT_POINT];
    if (mountPoint === undefined) continue; // a line too short to be mountinfo
    out.push({ mountPoint: mountPoint.replace(/\\040/g, ' '), fsType });
  }
  return out;
}

export function findMount(fsType: string, mounts = readMounts()): string | undefined {
  return mounts.find((m) => m.fsType === fsType)?.mountPoint;
}

/** The cgroup v2 mount (here /sys/fs/cgroup/unified on hybrid hosts, /sys/fs/cgroup on unified ones). */
export function cgroup2Root(): string {
  const p = findMount('cgroup2');
  if (!p)
    throw new KernelFeatureError(
      'no cgroup v2 filesystem is mounted (cgroup2 not in /proc/self/mountinfo); mount one, e.g. `mount -t cgroup2 none /sys/fs/cgroup/unified`',
      'cgroup2',
    );
  return p;
}

function ensureMounted(fsType: string, target: string): string {
  const have = findMount(fsType);
  if (have) return have;
  if (!existsSync(target)) throw new KernelFeatureError(`${fsType} is not mounted and ${target} does not exist to mount it on`, fsType);
  if ((c.mount(fsType, target, fsType, 0, null) as number) !== 0) {
    const errno = lastErrno();
    throw new KernelFeatureError(
      `${fsType} is not mounted and mounting it on ${target} failed (${describeErrno(errno)}); run as root or mount it: mount -t ${fsType} ${fsType} ${target}`,
      fsType,
    );
  }
  rootLogger.info(`mounted ${fsType}`, { target });
  return target;
}

/** tracefs is needed for tracepoint attachment (libbpf reads event ids from it). */
export function ensureTracefs(): string {
  return ensureMounted('tracefs', '/sys/kernel/tracing');
}

export function ensureBpffs(): string {
  return ensureMounted('bpf', '/sys/fs/bpf');
}

export function checkBtf(): void {
  if (!existsSync('/sys/kernel/btf/vmlinux')) {
    throw new KernelFeatureError('the kernel has no BTF (/sys/kernel/btf/vmlinux is missing): CO-RE probes need CONFIG_DEBUG_INFO_BTF=y', 'btf');
  }
}
