import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../../../../src/errors';
import { resolveIgnoredReasons } from '../../../../src/receivers/packet_fate/probe';
import { ReasonNames } from '../../../../src/receivers/packet_fate/reasons';

const drop = new Map([
  ['SKB_NOT_DROPPED_YET', 0],
  ['SKB_CONSUMED', 1],
  ['SKB_DROP_REASON_NOT_SPECIFIED', 2],
  ['SKB_DROP_REASON_NO_SOCKET', 3],
  ['SKB_DROP_REASON_NETFILTER_DROP', 12],
  ['SKB_DROP_REASON_MAX', 13],
  ['SKB_DROP_REASON_SUBSYS_MASK', 0xffff0000],
]);
const reset = new Map([
  ['SK_RST_REASON_NOT_SPECIFIED', 0],
  ['SK_RST_REASON_NO_SOCKET', 1],
  ['SK_RST_REASON_MAX', 2],
]);
const subsys = new Map([
  ['SKB_DROP_REASON_SUBSYS_CORE', 0],
  ['SKB_DROP_REASON_SUBSYS_OPENVSWITCH', 2],
  ['SKB_DROP_REASON_SUBSYS_NUM', 3],
]);
const names = new ReasonNames(drop, reset, subsys);

test('drop reasons are the enum names without SKB_DROP_REASON_', () => {
  assert.equal(names.drop(12), 'NETFILTER_DROP');
  assert.equal(names.drop(2), 'NOT_SPECIFIED');
  assert.deepEqual(names.dropNames(), ['NOT_SPECIFIED', 'NO_SOCKET', 'NETFILTER_DROP']);
});

test('a subsystem reason is named by its subsystem and code, anything else by its number', () => {
  assert.equal(names.drop((2 << 16) | 5), 'OPENVSWITCH_5');
  assert.equal(names.drop(99), 'UNKNOWN_99');
  assert.equal(names.drop((7 << 16) | 1), `UNKNOWN_${(7 << 16) | 1}`);
});

test('reset reasons are the enum names without SK_RST_REASON_', () => {
  assert.equal(names.reset(1), 'NO_SOCKET');
  assert.equal(names.reset(0), 'NOT_SPECIFIED');
  assert.equal(names.reset(2), 'UNKNOWN_2', 'MAX bounds the enum, it is no reason');
});

test('ignored reasons resolve to the kernel values', () => {
  assert.deepEqual(resolveIgnoredReasons(names, ['NOT_SPECIFIED', 'NETFILTER_DROP']), [2, 12]);
});

test('an ignored reason this kernel does not have is a configuration error naming the key and the known reasons', () => {
  assert.throws(
    () => resolveIgnoredReasons(names, ['NOT_SPECIFIED', 'NO_SUCH_REASON', 'MAX'], 'receivers.packet_fate.ignore_reasons'),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.deepEqual(e.problems, [
        'receivers.packet_fate.ignore_reasons: "NO_SUCH_REASON" is not a drop reason of this kernel (enum skb_drop_reason has: NOT_SPECIFIED, NO_SOCKET, NETFILTER_DROP)',
        'receivers.packet_fate.ignore_reasons: "MAX" is not a drop reason of this kernel (enum skb_drop_reason has: NOT_SPECIFIED, NO_SOCKET, NETFILTER_DROP)',
      ]);
      return true;
    },
  );
});
