// The real CLI, stopped by a signal: it exits 0 and leaves no program, link or cgroup attachment.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { heldBpfObjects, stillExisting, type HeldObjects } from '../helpers/bpf-objects';

const CLI = join(__dirname, '../../src/cli/main.js');

/** Of the objects the agent held while running, those the kernel still has after it exited. */
function leftovers(h: HeldObjects): string[] {
  return [...stillExisting('prog', h.progIds).map((id) => `prog ${id}`), ...stillExisting('link', h.linkIds).map((id) => `link ${id}`)];
}

/** Start the CLI, wait for `ready` in its output, send `signal`, resolve with its exit code. */
function runUntilSignal(args: string[], ready: RegExp, signal: NodeJS.Signals): Promise<{ code: number | null; output: string; held: HeldObjects }> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no ${ready} within 20 s:\n${output}`));
    }, 20_000);
    let sent = false;
    let held: HeldObjects = { progIds: [], linkIds: [] };
    const onData = (d: Buffer) => {
      output += d;
      if (!sent && ready.test(output)) {
        sent = true;
        held = heldBpfObjects(child.pid!);
        child.kill(signal);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output, held });
    });
  });
}

test('netwatch run exits 0 on SIGTERM and leaves nothing attached', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nwt-run-'));
  const cfg = join(dir, 'agent.yaml');
  writeFileSync(cfg, 'receivers:\n  connections:\nexporters:\n  debug:\nservice:\n  pipelines:\n    metrics:\n      receivers: [connections]\n      exporters: [debug]\n');
  const { code, output, held } = await runUntilSignal(['run', '-c', cfg], /running/, 'SIGTERM');
  assert.equal(code, 0, output);
  assert.match(output, /stopping signal=SIGTERM/);
  assert.equal(held.progIds.length, 5, 'the five conn programs were loaded while it ran');
  assert.equal(held.linkIds.length, 5, 'and attached through five links (3 tracepoints, 2 cgroup hooks)');
  assert.deepEqual(leftovers(held), []);
});

test('netwatch run with connections and packet_fate exits 0 on SIGTERM and leaves none of its ten programs or links', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nwp-run-'));
  const cfg = join(dir, 'agent.yaml');
  writeFileSync(cfg, [
    'receivers:', '  connections:', '  packet_fate:', '    interval: 200ms',
    'exporters:', '  debug:',
    'service:', '  pipelines:', '    metrics:', '      receivers: [connections, packet_fate]', '      exporters: [debug]',
    '    logs:', '      receivers: [packet_fate]', '      exporters: [debug]', '',
  ].join('\n'));
  const { code, output, held } = await runUntilSignal(['run', '-c', cfg], /running/, 'SIGTERM');
  assert.equal(code, 0, output);
  assert.equal(held.progIds.length, 10, 'five conn programs and five packet_fate programs were loaded');
  assert.equal(held.linkIds.length, 10, 'each attached through its own link');
  assert.deepEqual(leftovers(held), []);
});

test('netwatch events exits 0 on SIGINT and leaves nothing attached', async () => {
  const { code, output, held } = await runUntilSignal(['events', '--no-seed'], /conn probe attached/, 'SIGINT');
  assert.equal(code, 0, output);
  assert.equal(held.linkIds.length, 5);
  assert.deepEqual(leftovers(held), []);
});
