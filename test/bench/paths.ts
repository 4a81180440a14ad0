// Where the benchmark's native pieces are built (test/bench/Makefile) and how to build them.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** Source tree of the bench, from dist/test/bench/*.js or from test/bench/*.ts. */
export const BENCH_SRC = existsSync(join(__dirname, 'Makefile')) ? __dirname : resolve(__dirname, '../../../test/bench');
/** Build output of test/bench/Makefile. */
export const BENCH_OUT = resolve(BENCH_SRC, '../../dist/test/bench');

export const benchBin = (name: 'ringprod' | 'ringdrain' | 'connstorm'): string => join(BENCH_OUT, 'bin', name);
export const RINGGEN_OBJECT = join(BENCH_OUT, 'bpf', 'ringgen.bpf.o');

/** Build the C programs and the generator object (make: only what changed). */
export function buildNative(): void {
  execFileSync('make', ['-s', '-C', BENCH_SRC], { stdio: ['ignore', 'inherit', 'inherit'] });
}
