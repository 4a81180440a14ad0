// Running a loaded program once on a packet of our choosing (BPF_PROG_TEST_RUN), so packet parsers
// can be tested on the real kernel and verifier with frames no interface here can produce.
import koffi from 'koffi';
import { KernelError } from '../errors';
import { describeErrno } from './errno';
import { TestRunOpts, bpf } from './libbpf';

/** The program's return value for `frame` (an Ethernet frame for TC programs). */
export function testRunPacket(progFd: number, frame: Uint8Array): number {
  const opts = { sz: koffi.sizeof(TestRunOpts), data_in: Buffer.from(frame), data_size_in: frame.length, repeat: 1, retval: 0 };
  const ret = bpf.prog_test_run_opts(progFd, opts) as number;
  if (ret < 0) throw new KernelError(`BPF_PROG_TEST_RUN failed: ${describeErrno(-ret)}`, -ret, 'bpf_prog_test_run_opts');
  return opts.retval >>> 0;
}
