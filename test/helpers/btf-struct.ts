// Member offsets and size of a struct in a compiled probe object's BTF (bpftool's raw dump): what
// the layout tests compare each TypeScript mirror of a wire struct against.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { bpfObjectPath } from '../../src/kernel/object-path';

export interface BtfStruct {
  size: number;
  /** member name → byte offset */
  members: Record<string, number>;
}

export function btfStruct(probe: string, name: string): BtfStruct {
  const raw = execFileSync('bpftool', ['btf', 'dump', 'file', bpfObjectPath(probe), 'format', 'raw'], { encoding: 'utf8' });
  const lines = raw.split('\n');
  const at = lines.findIndex((l) => l.includes(`STRUCT '${name}' size=`));
  assert.ok(at >= 0, `struct ${name} not in the ${probe} object's BTF`);
  const head = /size=(\d+) vlen=(\d+)/.exec(lines[at])!;
  const members: Record<string, number> = {};
  for (let i = 1; i <= Number(head[2]); i++) {
    const m = /'([^']+)' type_id=\d+ bits_offset=(\d+)/.exec(lines[at + i])!;
    members[m[1]] = Number(m[2]) / 8;
  }
  return { size: Number(head[1]), members };
}
