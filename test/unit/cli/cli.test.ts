import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT, repoPath } from '../../helpers/paths';

// The compiled CLI next to this compiled test, wherever the build went.
const CLI = join(__dirname, '..', '..', '..', 'src', 'cli', 'main.js');

function netwatch(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: REPO_ROOT, encoding: 'utf8', env: { PATH: process.env.PATH ?? '' }, timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('validate on a bad file prints its problem on stderr and exits 2', () => {
  const file = repoPath('test', 'fixtures', 'config', 'bad', 'ring-buffer-not-power-of-two.yaml');
  const r = netwatch('validate', '-c', file);
  assert.equal(r.code, 2);
  assert.equal(r.stdout, '');
  assert.equal(
    r.stderr,
    `${file}: invalid configuration:\n  - receivers.connections.ring_buffer_size: must be a power of two (the kernel's BPF ring buffer requires it), got 5000000; the nearest are 4194304 or 8388608\n`,
  );
});

test('validate prints every problem of a file with several', () => {
  const r = netwatch('validate', '--config', repoPath('test', 'fixtures', 'config', 'bad', 'several-errors-at-once.yaml'));
  assert.equal(r.code, 2);
  assert.equal(r.stderr.split('\n').filter((l) => l.startsWith('  - ')).length, 5);
});

test('validate reads config/agent.yaml by default and prints a summary, exit 0', () => {
  const r = netwatch('validate');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^config\/agent\.yaml: valid\n/);
  assert.match(r.stdout, /filter\/ignore-loopback {2}\[not in any pipeline\]/);
  assert.match(r.stdout, /\n {2}metrics: connections -> otlp_grpc, debug\n/);
  assert.match(r.stdout, /\n {2}logs: connections -> otlp_grpc, debug\n/);
});

test('validate of a missing file exits 2 and says so', () => {
  const r = netwatch('validate', '-c', 'nope.yaml');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /nope\.yaml: invalid configuration:\n {2}- cannot read the configuration file: no such file/);
});

test('run with an invalid file exits 2 before starting anything', () => {
  const r = netwatch('run', '-c', repoPath('test', 'fixtures', 'config', 'bad', 'unknown-exporter-type.yaml'));
  assert.equal(r.code, 2);
  assert.match(r.stderr, /exporters\.otlpp: unknown exporter type "otlpp"/);
});

test('--help lists the run, validate and version commands', () => {
  const r = netwatch('--help');
  assert.equal(r.code, 0);
  for (const cmd of ['run', 'validate', 'version']) assert.match(r.stdout, new RegExp(`\\n {2}${cmd} `));
});

test('each command has --help naming its options', () => {
  for (const cmd of ['run', 'validate']) {
    const r = netwatch(cmd, '--help');
    assert.equal(r.code, 0);
    assert.match(r.stdout, /-c, --config <file>/);
    assert.match(r.stdout, /default: "config\/agent\.yaml"/);
  }
  assert.equal(netwatch('version', '--help').code, 0);
});

test('version prints the package version and the Node version', () => {
  const r = netwatch('version');
  assert.equal(r.code, 0);
  const { version } = JSON.parse(readFileSync(repoPath('package.json'), 'utf8')) as { version: string };
  assert.match(r.stdout, new RegExp(`^netwatch ${version.replaceAll('.', '\\.')}\\nnode ${process.version.replaceAll('.', '\\.')} `));
});

test('the entry point starts with a node shebang', () => {
  assert.match(readFileSync(CLI, 'utf8'), /^#!\/usr\/bin\/env node\n/);
});
