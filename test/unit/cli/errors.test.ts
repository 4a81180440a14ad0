import assert from 'node:assert/strict';
import { test } from 'node:test';
import { reportError } from '../../../src/cli/errors';
import { ConfigError, InternalError, KernelFeatureError } from '../../../src/errors';

const capture = (err: unknown): [number, string] => {
  let out = '';
  const code = reportError(err, (t) => (out += t));
  return [code, out];
};

test('a ConfigError exits 2 with its message', () => {
  assert.deepEqual(capture(new ConfigError(['a.b: wrong'], 'x.yaml')), [2, 'x.yaml: invalid configuration:\n  - a.b: wrong\n']);
});

test('another NetwatchError exits 1 with its code and message', () => {
  assert.deepEqual(capture(new KernelFeatureError('BTF is missing', 'btf')), [1, 'NETWATCH_ERR_KERNEL_FEATURE: BTF is missing\n']);
});

test('an unexpected error exits 1 and keeps its stack', () => {
  const [code, out] = capture(new Error('boom'));
  assert.equal(code, 1);
  assert.match(out, /^netwatch: unexpected error: Error: boom\n {4}at /);
});

test('an InternalError exits 1 with its code and keeps its stack, since it is a bug to report', () => {
  const [code, out] = capture(new InternalError('unknown instrument sparkline'));
  assert.equal(code, 1);
  assert.match(out, /^NETWATCH_ERR_INTERNAL: InternalError: unknown instrument sparkline\n {4}at /);
});
