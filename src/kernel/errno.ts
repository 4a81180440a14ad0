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

const names = new Map<number, string>(Object.entries(koffi.os.errno).map(([k, v]) => [v as number, k]));

export function errnoName(errno: number): string {
  return names.get(errno) ?? `E${errno}`;
}

export function describeErrno(errno: number): string {
  return `${errnoName(errno)}: ${c.strerror(errno) as string}`;
}
