import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { CONN_EVENT, SOCK_OWNER } from '../../../../src/probes/conn/layout';
import { bpfObjectPath } from '../../../../src/probes/conn/probe';

/** Member offsets and size of a struct, from the compiled object's BTF (bpftool's raw dump). */
function btfStruct(name: string): { size: number; members: Record<string, number> } {
  const raw = execFileSync('bpftool', ['btf', 'dump', 'file', bpfObjectPath('conn'), 'format', 'raw'], { encoding: 'utf8' });
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

test('the TypeScript layout of conn_event matches the C struct field by field', () => {
  const c = btfStruct('conn_event');
  assert.equal(CONN_EVENT.size, c.size);
  assert.deepEqual(CONN_EVENT.fields, c.members);
});

test('the TypeScript layout of sock_owner matches the C struct field by field', () => {
  const c = btfStruct('sock_owner');
  assert.equal(SOCK_OWNER.size, c.size);
  assert.deepEqual(SOCK_OWNER.fields, c.members);
});
