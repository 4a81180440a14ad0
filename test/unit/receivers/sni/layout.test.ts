import assert from 'node:assert/strict';
import { test } from 'node:test';
import { btfStruct as btfStructOf } from '../../../helpers/btf-struct';
import { SNI_CHUNK_LEN, SNI_FLOW, SNI_FLOW_KEY, SNI_HOLD, SNI_RECORD, SNI_RECORD_HLEN } from '../../../../src/receivers/sni/layout';

const btfStruct = (name: string) => btfStructOf('sni', name);

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

test('the TypeScript layout of sni_hold matches the C struct field by field', () => {
  const c = btfStruct('sni_hold');
  assert.equal(SNI_HOLD.size, c.size);
  assert.deepEqual(SNI_HOLD.fields, c.members);
});
