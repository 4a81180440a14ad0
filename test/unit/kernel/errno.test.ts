import assert from 'node:assert/strict';
import { test } from 'node:test';
import koffi from 'koffi';
import * as errno from '../../../src/kernel/errno';

test("the named errno constants are the platform's own numbers", () => {
  for (const name of ['ENOENT', 'EEXIST', 'ENODEV', 'EINVAL', 'ENOSYS'] as const) {
    assert.equal(errno[name], koffi.os.errno[name], name);
  }
});
