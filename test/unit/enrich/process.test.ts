import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, test } from 'node:test';
import { CMDLINE_MAX_BYTES, ProcessCache, readProcessInfo } from '../../../src/enrich/process';

// A stand-in procfs: <root>/<pid>/exe is a symlink we can repoint, <root>/<pid>/cmdline a file.
const fakeProc = mkdtempSync(join(tmpdir(), 'netwatch-proc-'));
after(() => rmSync(fakeProc, { recursive: true, force: true }));

function fakeProcess(pid: number, exe: string, argv: string[]): void {
  const dir = join(fakeProc, String(pid));
  mkdirSync(dir, { recursive: true });
  try {
    unlinkSync(join(dir, 'exe'));
  } catch {
    /* first time */
  }
  symlinkSync(exe, join(dir, 'exe'));
  writeFileSync(join(dir, 'cmdline'), argv.map((a) => a + '\0').join(''));
}

test('the test process itself is named by its executable and its command line', () => {
  const info = readProcessInfo(process.pid, '');
  assert.equal(info.pid, process.pid);
  assert.equal(info.executableName, basename(process.execPath));
  assert.ok(info.commandLine.includes(basename(__filename)), `command line ${info.commandLine} names the test file`);
});

test('a process that already exited keeps the executable name the kernel saw, with no command line', async () => {
  const child = spawn('true');
  const pid = child.pid!;
  await new Promise((resolve) => child.once('exit', resolve));
  assert.deepEqual({ ...readProcessInfo(pid, 'true') }, { pid, executableName: 'true', commandLine: '' });
  assert.deepEqual({ ...readProcessInfo(pid, '') }, { pid, executableName: '', commandLine: '' }, 'nobody could tell: no name, never a comm');
});

test("a pid that now runs another executable keeps the kernel's name, without the newcomer's command line", () => {
  fakeProcess(105, '/usr/bin/newcomer', ['newcomer', '--secret-flag']);
  assert.deepEqual({ ...readProcessInfo(105, 'curl', fakeProc) }, { pid: 105, executableName: 'curl', commandLine: '' });
});

test('NUL separators of the command line become spaces', () => {
  fakeProcess(101, '/usr/bin/curl', ['curl', '-s', 'http://127.0.0.1/']);
  assert.equal(readProcessInfo(101, 'curl', fakeProc).commandLine, 'curl -s http://127.0.0.1/');
});

test('a command line longer than 1 KiB is cut at 1 KiB', () => {
  fakeProcess(102, '/usr/bin/java', ['java', 'x'.repeat(5000)]);
  const { commandLine } = readProcessInfo(102, 'java', fakeProc);
  assert.equal(commandLine.length, CMDLINE_MAX_BYTES);
  assert.ok(commandLine.startsWith('java xxx'));
});

test('a cut through a multi-byte character leaves no replacement character', () => {
  fakeProcess(103, '/usr/bin/echo', ['echo', 'é'.repeat(1000)]);
  const { commandLine } = readProcessInfo(103, 'echo', fakeProc);
  assert.ok(!commandLine.includes('\uFFFD'));
  assert.ok(Buffer.byteLength(commandLine) <= CMDLINE_MAX_BYTES);
});

test('a binary deleted since it started is still named by its file name', () => {
  fakeProcess(104, '/opt/app/server (deleted)', ['server']);
  assert.equal(readProcessInfo(104, 'server', fakeProc).executableName, 'server');
});

test('the cache answers from memory until the entry is older than the TTL', () => {
  const cache = new ProcessCache({ procRoot: fakeProc, ttlMs: 1000 });
  fakeProcess(200, '/usr/bin/first', ['first']);
  assert.equal(cache.get(200, '', 0).executableName, 'first');
  fakeProcess(200, '/usr/bin/second', ['second']);
  assert.equal(cache.get(200, '', 999).executableName, 'first');
  assert.equal(cache.stats().procReads, 1);
  assert.equal(cache.get(200, '', 1000).executableName, 'second');
  assert.equal(cache.stats().procReads, 2);
});

test('a different executable from the kernel for a cached pid is read again at once: the pid was reused', () => {
  const cache = new ProcessCache({ procRoot: fakeProc, ttlMs: 60_000 });
  fakeProcess(201, '/usr/bin/old', ['old']);
  cache.get(201, 'old', 0);
  fakeProcess(201, '/usr/bin/new', ['new', '--serve']);
  const info = cache.get(201, 'new', 5_000);
  assert.deepEqual({ ...info }, { pid: 201, executableName: 'new', commandLine: 'new --serve' });
});

test('events of one process hit the cache whatever thread made them: one read', () => {
  const cache = new ProcessCache({ procRoot: fakeProc, ttlMs: 60_000 });
  fakeProcess(202, '/usr/bin/node', ['node', 'app.js']);
  for (let t = 0; t < 500; t++) cache.get(202, t % 2 ? '' : 'node', t);
  assert.equal(cache.stats().procReads, 1);
  assert.equal(cache.get(202, 'node', 1500).commandLine, 'node app.js');
});

test('what neither the kernel nor /proc could name is not remembered: the next event tries again', () => {
  const cache = new ProcessCache({ procRoot: fakeProc });
  assert.equal(cache.get(204, '', 0).executableName, '');
  fakeProcess(204, '/usr/bin/late', ['late']);
  assert.equal(cache.get(204, '', 1).executableName, 'late');
  assert.equal(cache.stats().procReads, 2);
});

test('the cache keeps no more pids than its size', () => {
  const cache = new ProcessCache({ procRoot: fakeProc, size: 8 });
  for (let pid = 300; pid < 400; pid++) cache.get(pid, 'c', 0); // named by the kernel: kept even though /proc has none
  assert.equal(cache.stats().size, 8);
});

test('the cached info is frozen, since every later event shares it', () => {
  const cache = new ProcessCache({ procRoot: fakeProc });
  assert.ok(Object.isFrozen(cache.get(process.pid, 'node', 0)));
});
