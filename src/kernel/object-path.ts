// Where the compiled BPF objects of every probe are found.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** Where `npm run build` puts the BPF objects: dist/bpf next to dist/src. */
export function bpfObjectPath(probe: string): string {
  const fromEnv = process.env.NETWATCH_BPF_DIR;
  if (fromEnv) return join(fromEnv, `${probe}.bpf.o`);
  for (const dir of [resolve(__dirname, '../../bpf'), resolve(__dirname, '../../../dist/bpf')]) {
    const p = join(dir, `${probe}.bpf.o`);
    if (existsSync(p)) return p;
  }
  return resolve(__dirname, '../../bpf', `${probe}.bpf.o`);
}
