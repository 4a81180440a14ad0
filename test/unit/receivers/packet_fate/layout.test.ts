import assert from 'node:assert/strict';
import { test } from 'node:test';
import { btfStruct as btfStructOf } from '../../../helpers/btf-struct';
import { FATE_CONTROL, FATE_EVENT, FATE_KEY } from '../../../../src/receivers/packet_fate/layout';

const btfStruct = (name: string) => btfStructOf('packet_fate', name);

for (const [name, layout] of [
  ['fate_key', FATE_KEY],
  ['fate_event', FATE_EVENT],
  ['fate_control', FATE_CONTROL],
] as const) {
  test(`the TypeScript layout of ${name} matches the C struct field by field`, () => {
    const c = btfStruct(name);
    assert.equal(layout.size, c.size);
    assert.deepEqual(layout.fields, c.members);
  });
}
