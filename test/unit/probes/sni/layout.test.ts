import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { bpfObjectPath } from '../../../../src/probes/conn/probe';
import { SNI_CHUNK_LEN, SNI_FLOW, SNI_FLOW_KEY, SNI_RECORD, SNI_RECORD_HLEN } from '../../../../src/probes/sni/layout';

/** Member offsets and size of a struct, from the compiled object's BTF (bpftool's raw dump). */
function btfStruct(name: string): { size: number; members: Record<string, number> } {
  const raw = execFileSync('bpftool', ['btf', 'dump', 'file', bpfObjectPath('sni'), 'format', 'raw'], { encoding: 'utf8' });
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

test('the TypeScript layout of sni_record matches the C struct field by field', () => {
  const c = btfStruct('sni_record');
  assert.equal(SNI_RECORD.size, c.size);
  assert.deepEqual(SNI_RECORD.fields, c.members);
  assert.equal(SNI_RECORD_HLEN + SNI_CHUNK_LEN, c.size, 'the payload is the last member and SNI_CHUNK_LEN long');
});

test('the TypeScript layout of sni_flow_key matches the C struct field by field', () => {
  const c = btfStruct('sni_flow_key');
  assert.equal(SNI_FLOW_KEY.size, c.size);
  assert.deepEqual(SNI_FLOW_KEY.fields, c.members);
});

test('the TypeScript layout of sni_flow matches the C struct field by field', () => {
  const c = btfStruct('sni_flow');
  assert.equal(SNI_FLOW.size, c.size);
  assert.deepEqual(SNI_FLOW.fields, c.members);
});
