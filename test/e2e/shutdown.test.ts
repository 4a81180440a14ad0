// The real CLI, stopped by a signal: it exits 0 and leaves no program, link or cgroup attachment.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

const CLI = join(__dirname, '../../src/cli/main.js');

function leftovers(): string[] {
  const found: string[] = [];
  const progs = execFileSync('bpftool', ['prog', 'list'], { encoding: 'utf8' });
  if (/conn_(state|connect|accept)/.test(progs)) found.push('conn programs still loaded');
  if (/conn_/.test(execFileSync('bpftool', ['link', 'list'], { encoding: 'utf8' }))) found.push('conn links remain');
  if (/conn_connect/.test(execFileSync('bpftool', ['cgroup', 'tree'], { encoding: 'utf8' }))) found.push('cgroup attachments remain');
  return found;
}

/** Start the CLI, wait for `ready` in its output, send `signal`, resolve with its exit code. */
function runUntilSignal(args: string[], ready: RegExp, signal: NodeJS.Signals): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no ${ready} within 20 s:\n${output}`));
    }, 20_000);
    let sent = false;
    const onData = (d: Buffer) => {
      output += d;
      if (!sent && ready.test(output)) {
        sent = true;
        assert.match(execFileSync('bpftool', ['prog', 'list'], { encoding: 'utf8' }), /conn_state/, 'the programs are loaded while it runs');
        child.kill(signal);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

test('netwatch run exits 0 on SIGTERM and leaves nothing attached', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nwt-run-'));
  const cfg = join(dir, 'agent.yaml');
  writeFileSync(cfg, 'receivers:\n  connections:\nexporters:\n  debug:\nservice:\n  pipelines:\n    metrics:\n      receivers: [connections]\n      exporters: [debug]\n');
  const { code, output } = await runUntilSignal(['run', '-c', cfg], /running/, 'SIGTERM');
  assert.equal(code, 0, output);
  assert.match(output, /stopping signal=SIGTERM/);
  assert.deepEqual(leftovers(), []);
});

test('netwatch events exits 0 on SIGINT and leaves nothing attached', async () => {
  const { code, output } = await runUntilSignal(['events', '--no-seed'], /conn probe attached/, 'SIGINT');
  assert.equal(code, 0, output);
  assert.deepEqual(leftovers(), []);
});
