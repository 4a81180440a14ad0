// errno must be read right after the failing call: any later call may overwrite it.
import koffi from 'koffi';
import { c } from './libbpf';

export function lastErrno(): number {
  return koffi.errno();
}

/** libbpf 1.x returns -errno from int functions; pointer functions return NULL and set errno. */
export function errnoFromResult(ret: number): number {
  return ret < 0 ? -ret : koffi.errno();
}

// errno values libbpf results are compared with (include/uapi/asm-generic/errno-base.h and
// errno.h: the same numbers on x86_64 and arm64).
/** No such entry: a map key, TC filter or hook that is not there. */
export const ENOENT = 2;
/** Already exists: bpf_tc_hook_create found a clsact qdisc someone else made. */
export const EEXIST = 17;
/** No such device: the interface disappeared before we detached from it. */
export const ENODEV = 19;
/** Invalid argument: what the kernel says when a request cannot apply (also our own set_rodata misuse). */
export const EINVAL = 22;
/** Function not implemented: no membarrier syscall number is known for this architecture. */
export const ENOSYS = 38;

const names = new Map<number, string>(Object.entries(koffi.os.errno).map(([k, v]) => [v, k]));

export function errnoName(errno: number): string {
  return names.get(errno) ?? `E${errno}`;
}

export function describeErrno(errno: number): string {
  return `${errnoName(errno)}: ${c.strerror(errno) as string}`;
}
