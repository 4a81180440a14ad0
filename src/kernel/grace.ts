// Waiting until no BPF program still runs with what it read before a change: tracing programs
// run inside an RCU read-side section, so one RCU grace period (membarrier(MEMBARRIER_CMD_GLOBAL)
// is synchronize_rcu()) is enough. Used to retire a table the kernel was counting into.
import { KernelError } from '../errors';
import { MEMBARRIER_CMD_GLOBAL, SYS_MEMBARRIER, c } from './libbpf';
import { describeErrno, ENOSYS, lastErrno } from './errno';

// If membarrier is refused (nohz_full kernels: EINVAL), wait this long instead: a tracing
// program runs for microseconds with preemption off, so this is hundreds of times its worst case.
const FALLBACK_GRACE_MS = 50;

function sysno(): number {
  const n = SYS_MEMBARRIER[process.arch];
  if (n === undefined) throw new KernelError(`membarrier: unknown syscall number on ${process.arch}`, ENOSYS, 'membarrier');
  return n;
}

let refused: string | undefined;

/** Why membarrier cannot be used here (then the fallback wait is), undefined when it can. */
export function graceFallbackReason(): string | undefined {
  return refused;
}

/** Blocks for one grace period (a few milliseconds): for stop and explicit flushes. */
export function waitForBpfReadersSync(): void {
  if (refused === undefined) {
    const ret = Number(c.syscall_membarrier(sysno(), MEMBARRIER_CMD_GLOBAL, 0, 0));
    if (ret === 0) return;
    refused = describeErrno(lastErrno());
  }
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, FALLBACK_GRACE_MS);
}

/** One grace period without blocking the event loop (the syscall runs on koffi's worker thread). */
export function waitForBpfReaders(): Promise<void> {
  if (refused !== undefined) return new Promise((r) => setTimeout(r, FALLBACK_GRACE_MS));
  return new Promise((resolve) => {
    c.syscall_membarrier.async(sysno(), MEMBARRIER_CMD_GLOBAL, 0, 0, (err: unknown, ret: unknown) => {
      if (!err && Number(ret) === 0) return resolve();
      // errno lives on the worker thread: say what is known.
      // eslint-disable-next-line @typescript-eslint/no-base-to-string -- koffi gives an Error or a number: String() shows either
      refused = err ? String(err) : `membarrier returned ${String(ret)}`;
      setTimeout(resolve, FALLBACK_GRACE_MS);
    });
  });
}
