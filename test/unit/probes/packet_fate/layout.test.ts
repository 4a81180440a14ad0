import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { bpfObjectPath } from '../../../../src/probes/conn/probe';
import { FATE_CONTROL, FATE_EVENT, FATE_KEY } from '../../../../src/probes/packet_fate/layout';

/** Member offsets and size of a struct, from the compiled object's BTF (bpftool's raw dump). */
function btfStruct(name: string): { size: number; members: Record<string, number> } {
  const raw = execFileSync('bpftool', ['btf', 'dump', 'file', bpfObjectPath('packet_fate'), 'format', 'raw'], { encoding: 'utf8' });
  const lines = raw.split('\n');
  const at = lines.findIndex((l) => l.includes(`STRUCT '${name}' size=`));
  assert.ok(at >= 0, `struct ${name} not in the object's BTF`);
  const head = /size=(\d+) vlen=(\d+)/.exec(lines[at])!;
  const members: Record<string, number> = {};
  for (let i = 1; i <= Number(head[2]); i++) {
    const m = /'([^']+)' type_id=\d+ bits_offset=(\d+)/.exec(lines[at + i])!;
    members[m[1]] = Number(m[2]) / 8;
  }
  return { size: Number(head[1]), members };
}

for (const [name, layout] of [['fate_key', FATE_KEY], ['fate_event', FATE_EVENT], ['fate_control', FATE_CONTROL]] as const) {
  test(`the TypeScript layout of ${name} matches the C struct field by field`, () => {
    const c = btfStruct(name);
    assert.equal(layout.size, c.size);
    assert.deepEqual(layout.fields, c.members);
  });
}
