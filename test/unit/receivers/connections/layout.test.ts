import assert from 'node:assert/strict';
import { test } from 'node:test';
import { btfStruct as btfStructOf } from '../../../helpers/btf-struct';
import { BUCKETS_MAX } from '../../../../src/config/formats';
import {
  CONN_HIST_BUCKETS,
  CONN_COUNTS,
  CONN_EVENT,
  CONN_EXE_KEY,
  CONN_KEY,
  CONN_OWNER,
  CONN_SEED,
  CONN_SOCK,
  SOCK_OWNER,
} from '../../../../src/receivers/connections/layout';

const btfStruct = (name: string) => btfStructOf('conn', name);

test('a receiver may ask for at most as many histogram bounds as the kernel has buckets for, less +Inf', () => {
  assert.equal(BUCKETS_MAX, CONN_HIST_BUCKETS - 1);
});

for (const [name, layout] of [
  ['conn_event', CONN_EVENT],
  ['conn_owner', CONN_OWNER],
  ['conn_key', CONN_KEY],
  ['conn_counts', CONN_COUNTS],
  ['conn_sock', CONN_SOCK],
  ['conn_exe_key', CONN_EXE_KEY],
  ['sock_owner', SOCK_OWNER],
  ['conn_seed', CONN_SEED],
] as const) {
  test(`the TypeScript layout of ${name} matches the C struct field by field`, () => {
    const c = btfStruct(name);
    assert.equal(layout.size, c.size);
    assert.deepEqual(layout.fields, c.members);
  });
}
