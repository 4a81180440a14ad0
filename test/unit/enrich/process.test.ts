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
  const info = readProcessInfo(process.pid, 'whatever');
  assert.equal(info.pid, process.pid);
  assert.equal(info.executableName, basename(process.execPath));
  assert.ok(info.commandLine.includes(basename(__filename)), `command line ${info.commandLine} names the test file`);
});

test('a process that already exited is named by the kernel comm, with no command line', async () => {
  const child = spawn('true');
  const pid = child.pid!;
  await new Promise((resolve) => child.once('exit', resolve));
  const info = readProcessInfo(pid, 'gone-comm');
  assert.deepEqual({ ...info }, { pid, executableName: 'gone-comm', commandLine: '' });
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
  assert.equal(cache.get(200, 'first', 0).executableName, 'first');
  fakeProcess(200, '/usr/bin/second', ['second']);
  assert.equal(cache.get(200, 'first', 999).executableName, 'first');
  assert.equal(cache.stats().procReads, 1);
  assert.equal(cache.get(200, 'first', 1000).executableName, 'second');
  assert.equal(cache.stats().procReads, 2);
});

test('a new comm for a cached pid is read again at once: the pid was reused', () => {
  const cache = new ProcessCache({ procRoot: fakeProc, ttlMs: 60_000 });
  fakeProcess(201, '/usr/bin/old', ['old']);
  cache.get(201, 'old', 0);
  fakeProcess(201, '/usr/bin/new', ['new', '--serve']);
  const info = cache.get(201, 'new', 5_000);
  assert.deepEqual({ ...info }, { pid: 201, executableName: 'new', commandLine: 'new --serve' });
});

test('threads of one process with different comms cause at most one read per recheck interval', () => {
  const cache = new ProcessCache({ procRoot: fakeProc, ttlMs: 60_000, recheckMs: 1000 });
  fakeProcess(202, '/usr/bin/node', ['node', 'app.js']);
  cache.get(202, 'node', 0);
  for (let t = 1000; t < 1500; t++) cache.get(202, t % 2 ? 'libuv-worker' : 'node', t);
  assert.equal(cache.stats().procReads, 2);
  assert.equal(cache.get(202, 'node', 1500).executableName, 'node');
});

test('an empty comm never counts as a different process', () => {
  const cache = new ProcessCache({ procRoot: fakeProc });
  fakeProcess(203, '/usr/bin/nginx', ['nginx']);
  cache.get(203, 'nginx', 0);
  cache.get(203, '', 10_000);
  assert.equal(cache.stats().procReads, 1);
});

test('the cache keeps no more pids than its size', () => {
  const cache = new ProcessCache({ procRoot: fakeProc, size: 8 });
  for (let pid = 300; pid < 400; pid++) cache.get(pid, 'c', 0);
  assert.equal(cache.stats().size, 8);
});

test('the cached info is frozen, since every later event shares it', () => {
  const cache = new ProcessCache({ procRoot: fakeProc });
  assert.ok(Object.isFrozen(cache.get(process.pid, 'node', 0)));
});
