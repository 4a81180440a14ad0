// src/kernel against the real kernel: errors, verifier logs, libbpf's log routing, mounts.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { KernelError, VerifierError } from '../../src/errors';
import { BpfObject } from '../../src/kernel/object';
import { ensureTracefs, findMount } from '../../src/kernel/mounts';
import { setLogSink } from '../../src/log';
import { repoPath } from '../helpers/paths';

const lines: string[] = [];
setLogSink((line) => lines.push(line));
after(() => setLogSink((line) => process.stderr.write(line + '\n')));

function compileFixture(name: string): string {
  const out = join(mkdtempSync(join(tmpdir(), 'nwt-bpf-')), `${name}.o`);
  execFileSync('clang', [
    '-g',
    '-O2',
    '-target',
    'bpf',
    '-D__TARGET_ARCH_x86',
    `-I${repoPath('bpf/include')}`,
    '-c',
    repoPath('test/fixtures/bpf', `${name}.bpf.c`),
    '-o',
    out,
  ]);
  return out;
}

test('opening a missing object fails with ENOENT, and libbpf says why through the agent logger', () => {
  lines.length = 0;
  assert.throws(
    () => BpfObject.open('/nonexistent/probe.bpf.o'),
    (e: unknown) => {
      assert.ok(e instanceof KernelError);
      assert.equal(e.code, 'NETWATCH_ERR_KERNEL');
      assert.equal(e.errno, 2);
      assert.match(e.message, /ENOENT/);
      return true;
    },
  );
  assert.ok(
    lines.some((l) => l.includes('[netwatch/libbpf]') && l.includes('/nonexistent/probe.bpf.o')),
    lines.join('\n'),
  );
});

test('a program the verifier rejects fails with VerifierError carrying the program name and the verifier log', () => {
  const obj = BpfObject.open(compileFixture('verifier-rejects-unchecked-lookup'));
  try {
    assert.throws(
      () => obj.load(),
      (e: unknown) => {
        assert.ok(e instanceof VerifierError);
        assert.equal(e.code, 'NETWATCH_ERR_VERIFIER');
        assert.equal(e.program, 'unchecked_lookup');
        assert.equal(e.errno, 13); // EACCES: the verifier said no
        assert.match(e.verifierLog ?? '', /map_value_or_null/);
        return true;
      },
    );
  } finally {
    obj.close();
  }
});

test('setting an unknown const volatile fails naming the setting and the ones that exist', () => {
  assert.throws(
    () => BpfObject.open(join(repoPath('dist/bpf'), 'conn.bpf.o'), { rodata: { no_such_setting: 1 } }),
    /no setting named no_such_setting in \.rodata \(have: .*wakeup_bytes/,
  );
});

test('tracefs is mounted when it is missing', () => {
  const before = findMount('tracefs');
  if (before) execFileSync('umount', [before]);
  assert.equal(findMount('tracefs'), undefined);
  const at = ensureTracefs();
  assert.equal(findMount('tracefs'), at);
});
