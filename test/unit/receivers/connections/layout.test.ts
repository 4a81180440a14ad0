import assert from 'node:assert/strict';
import { test } from 'node:test';
import { btfStruct as btfStructOf } from '../../../helpers/btf-struct';
import { CONN_EVENT, SOCK_OWNER } from '../../../../src/receivers/connections/layout';

const btfStruct = (name: string) => btfStructOf('conn', name);

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
