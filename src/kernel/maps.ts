// Reading and writing map elements from JS through the bpf syscall wrappers.
import { KernelError } from '../errors';
import { bpf } from './libbpf';
import { describeErrno, ENOENT } from './errno';

let ncpus = 0;
export function possibleCpus(): number {
  if (!ncpus) ncpus = bpf.num_possible_cpus() as number;
  return ncpus;
}

/** Per-CPU values are rounded up to 8 bytes each (kernel/bpf/syscall.c, bpf_map_value_size). */
const PERCPU_VALUE_ALIGN = 8;
/** Counter maps are keyed by a u32. */
const U32_KEY_SIZE = 4;
/** Batch lookups hand back an opaque u64 position token (the kernel's out_batch). */
const BATCH_TOKEN_SIZE = 8;

/** Sum of a per-CPU u64 counter at key (0 when the key is absent). */
export function sumPerCpuU64(fd: number, key = 0): bigint {
  const k = Buffer.alloc(U32_KEY_SIZE);
  k.writeUInt32LE(key);
  const n = possibleCpus();
  const v = Buffer.alloc(PERCPU_VALUE_ALIGN * n); // a u64 is exactly one aligned slot per CPU
  const ret = bpf.map_lookup_elem(fd, k, v) as number;
  if (ret < 0) {
    if (-ret === ENOENT) return 0n;
    throw new KernelError(`reading per-CPU counter failed: ${describeErrno(-ret)}`, -ret, 'bpf_map_lookup_elem');
  }
  let sum = 0n;
  for (let i = 0; i < n; i++) sum += v.readBigUInt64LE(i * PERCPU_VALUE_ALIGN);
  return sum;
}

export function updateElem(fd: number, key: Buffer, value: Buffer, flags = 0n): void {
  const ret = bpf.map_update_elem(fd, key, value, flags) as number;
  if (ret < 0) throw new KernelError(`map update failed: ${describeErrno(-ret)}`, -ret, 'bpf_map_update_elem');
}

export function deleteElem(fd: number, key: Buffer): boolean {
  const ret = bpf.map_delete_elem(fd, key) as number;
  if (ret < 0 && -ret !== ENOENT) throw new KernelError(`map delete failed: ${describeErrno(-ret)}`, -ret, 'bpf_map_delete_elem');
  return ret === 0;
}

export function lookupElem(fd: number, key: Buffer, valueSize: number): Buffer | undefined {
  const v = Buffer.alloc(valueSize);
  const ret = bpf.map_lookup_elem(fd, key, v) as number;
  if (ret < 0) {
    if (-ret === ENOENT) return undefined;
    throw new KernelError(`map lookup failed: ${describeErrno(-ret)}`, -ret, 'bpf_map_lookup_elem');
  }
  return v;
}

/** The buffer one element of a per-CPU map takes: every CPU's value, each rounded up to PERCPU_VALUE_ALIGN. */
export function perCpuValueSize(valueSize: number): number {
  return Math.ceil(valueSize / PERCPU_VALUE_ALIGN) * PERCPU_VALUE_ALIGN * possibleCpus();
}

export interface Batch {
  keys: Buffer;
  values: Buffer;
  count: number;
}

/**
 * Every element of a map in chunks of `chunk` (one syscall each): lookup_batch, or
 * lookup_and_delete_batch when `del` (the map must have no writers then, or a concurrent update
 * may be lost). `valueSize` is the size one element's value takes in the buffer (per-CPU: all CPUs).
 */
export function forEachBatch(fd: number, keySize: number, valueSize: number, chunk: number, del: boolean, fn: (b: Batch) => void): void {
  const keys = Buffer.alloc(keySize * chunk);
  const values = Buffer.alloc(valueSize * chunk);
  const tokens = [Buffer.alloc(BATCH_TOKEN_SIZE), Buffer.alloc(BATCH_TOKEN_SIZE)];
  const call = del ? bpf.map_lookup_and_delete_batch : bpf.map_lookup_batch;
  let inBatch: Buffer | null = null;
  for (let round = 0; ; round++) {
    const out = tokens[round & 1]!; // two tokens, alternating
    const count = [chunk];
    const ret = call(fd, inBatch, out, keys, values, count, null) as number;
    if (ret < 0 && -ret !== ENOENT) {
      throw new KernelError(
        `${del ? 'bpf_map_lookup_and_delete_batch' : 'bpf_map_lookup_batch'} failed: ${describeErrno(-ret)}`,
        -ret,
        del ? 'bpf_map_lookup_and_delete_batch' : 'bpf_map_lookup_batch',
      );
    }
    const got = count[0]!; // the one-element out-parameter
    if (got > 0) fn({ keys, values, count: got });
    if (ret < 0) return; // ENOENT: that was the last chunk
    inBatch = out;
  }
}
