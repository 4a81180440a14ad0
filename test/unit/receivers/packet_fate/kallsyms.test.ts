import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Kallsyms } from '../../../../src/receivers/packet_fate/kallsyms';

function kallsyms(text: string): Kallsyms {
  const file = join(mkdtempSync(join(tmpdir(), 'nwp-ksyms-')), 'kallsyms');
  writeFileSync(file, text);
  return new Kallsyms(file);
}

const TEXT = [
  'ffffffff81000000 T _stext',
  'ffffffff81001000 t nf_hook_slow',
  'ffffffff81001200 T ip_rcv',
  'ffffffff82000000 D some_data',
  'ffffffffc0a00000 t nft_do_chain\t[nf_tables]',
  '0000000000000000 A fixed_percpu_data',
  '',
].join('\n');

test('a text address is its function plus the offset into it', () => {
  const k = kallsyms(TEXT);
  assert.equal(k.symbolize(0xffffffff8100104cn), 'nf_hook_slow+0x4c');
  assert.equal(k.symbolize(0xffffffff81001200n), 'ip_rcv+0x0');
  assert.equal(k.symbolize(0xffffffffc0a00010n), 'nft_do_chain+0x10');
});

test('data symbols and addresses below the kernel text are not functions', () => {
  const k = kallsyms(TEXT);
  assert.equal(k.symbolize(0xffffffff82000004n), 'ip_rcv+0xffee04', 'data is skipped: the nearest function before it');
  assert.equal(k.symbolize(0xffffffff80000000n), undefined);
  assert.equal(k.symbolize(0x1234n), undefined);
});

test('a kallsyms with hidden addresses (kptr_restrict) or none at all symbolizes nothing', () => {
  assert.equal(kallsyms('0000000000000000 T _stext\n0000000000000000 t nf_hook_slow\n').symbolize(0xffffffff8100104cn), undefined);
  assert.equal(new Kallsyms('/nonexistent/kallsyms').symbolize(0xffffffff8100104cn), undefined);
});

test('a preloaded table symbolizes like one read on first use', async () => {
  const k = kallsyms(TEXT);
  await k.preload();
  assert.equal(k.symbolize(0xffffffff8100104cn), 'nf_hook_slow+0x4c');
});

test('an unsorted kallsyms (modules listed before the core) is sorted first', () => {
  const k = kallsyms(['ffffffffc0a00000 t nft_do_chain\t[nf_tables]', 'ffffffff81001000 t nf_hook_slow', ''].join('\n'));
  assert.equal(k.symbolize(0xffffffff81001004n), 'nf_hook_slow+0x4');
  assert.equal(k.symbolize(0xffffffffc0a00004n), 'nft_do_chain+0x4');
});
