// Running a BPF iterator: one pass per call, in a chosen network namespace (a socket iterator sees
// the namespace that was current when its descriptor was made: bpf_iter_init_seq_net).
import { KernelError } from '../errors';
import { bpf, c, O_CLOEXEC, O_RDONLY } from './libbpf';
import { describeErrno, lastErrno } from './errno';

/** setns(2) nstype for a network namespace. */
const CLONE_NEWNET = 0x40000000;
const READ_CHUNK = 4096;
const buf = Buffer.alloc(READ_CHUNK);

let selfNetnsFd = -1;

/** The agent's own network namespace, opened once: where every setns() returns to. */
function selfNetns(): number {
  if (selfNetnsFd < 0) {
    selfNetnsFd = c.open('/proc/self/ns/net', O_RDONLY | O_CLOEXEC) as number;
    if (selfNetnsFd < 0) throw new KernelError(`open(/proc/self/ns/net) failed: ${describeErrno(lastErrno())}`, lastErrno(), 'open');
  }
  return selfNetnsFd;
}

/** Read an iterator descriptor to its end (reading is what runs the program), then close it. */
function drainIter(fd: number): void {
  try {
    for (;;) {
      const n = Number(c.read(fd, buf, READ_CHUNK));
      if (n === 0) return;
      if (n < 0) throw new KernelError(`reading a BPF iterator failed: ${describeErrno(lastErrno())}`, lastErrno(), 'read');
    }
  } finally {
    c.close(fd);
  }
}

/**
 * One pass of the iterator behind `linkFd` over the namespace `nsPath` (/proc/<pid>/ns/net or a
 * /run/netns bind mount; undefined: the agent's own). The calling thread enters the namespace only
 * for bpf_iter_create and leaves it before anything else runs. False when the namespace is gone.
 */
export function runIterIn(linkFd: number, nsPath?: string): boolean {
  if (nsPath === undefined) {
    const fd = bpf.iter_create(linkFd) as number;
    if (fd < 0) throw new KernelError(`bpf_iter_create failed: ${describeErrno(-fd)}`, -fd, 'bpf_iter_create');
    drainIter(fd);
    return true;
  }
  const self = selfNetns();
  const ns = c.open(nsPath, O_RDONLY | O_CLOEXEC) as number;
  if (ns < 0) return false; // the namespace (or its last process) went away
  let fd: number;
  let back: number;
  try {
    if ((c.setns(ns, CLONE_NEWNET) as number) < 0) return false;
    // Nothing between the two setns calls can throw (plain FFI calls), so the thread always returns.
    fd = bpf.iter_create(linkFd) as number;
    back = c.setns(self, CLONE_NEWNET) as number;
  } finally {
    c.close(ns); // the iterator holds its own reference to the namespace
  }
  if (back < 0) {
    const errno = lastErrno();
    if (fd >= 0) c.close(fd);
    throw new KernelError(`setns back to the agent's network namespace failed: ${describeErrno(errno)}`, errno, 'setns');
  }
  if (fd < 0) throw new KernelError(`bpf_iter_create failed: ${describeErrno(-fd)}`, -fd, 'bpf_iter_create');
  drainIter(fd);
  return true;
}
