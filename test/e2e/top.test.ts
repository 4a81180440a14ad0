// `netwatch top` in a real terminal (tmux), reading a running agent's query API while real curl
// connections happen: the screen refreshes from "(none)" to the exact counts, and q quits.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import * as http from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { CLI, RunningCli } from '../helpers/cli';
import { freePort } from '../helpers/ports';

const SOCKET = `nwo-top-${process.pid}`; // a tmux server of our own
const SESSION = 'top';
const N = 3;
const run = promisify(execFile);
const tmux = (...args: string[]): string => execFileSync('tmux', ['-L', SOCKET, ...args], { encoding: 'utf8' });
const screen = (): string => tmux('capture-pane', '-p', '-t', SESSION);

let agent: RunningCli;
let api = '';
let web: http.Server;
let webPort: number;
let closedPort: number;

async function waitScreen(re: RegExp, ms = 20_000): Promise<string> {
  const end = Date.now() + ms;
  for (;;) {
    const s = screen();
    if (re.test(s)) return s;
    if (Date.now() > end) throw new Error(`no ${re} on the screen:\n${s}\nagent:\n${agent.output}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

before(async () => {
  const port = await freePort('127.0.0.1');
  api = `http://127.0.0.1:${port}`;
  const dir = mkdtempSync(join(tmpdir(), 'nwt-top-'));
  const cfg = join(dir, 'agent.yaml');
  writeFileSync(
    cfg,
    `receivers:\n  connections:\n    seed_existing: false\nexporters:\n  debug:\nservice:\n  server:\n    enabled: true\n    port: ${port}\n  pipelines:\n    metrics:\n      receivers: [connections]\n      exporters: [debug]\n`,
  );
  agent = RunningCli.start(['run', '-c', cfg]);
  await agent.waitFor(/running/);
  web = http.createServer((_req, res) => res.end('ok'));
  await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
  webPort = (web.address() as AddressInfo).port;
  closedPort = await freePort('127.0.0.1');
});

after(async () => {
  try {
    tmux('kill-server');
  } catch {
    // already gone: q quit the only session
  }
  await agent?.stop();
  await new Promise((r) => web?.close(r));
});

test('top shows the live counts of a running agent, refreshing as traffic happens, and q quits', async () => {
  const cmd = [process.execPath, CLI, 'top', '--url', api, '--interval', '300ms', '--since', '10m', '--process', 'curl', '--port', `${webPort},${closedPort}`];
  tmux('new-session', '-d', '-s', SESSION, '-x', '150', '-y', '60', cmd.map((a) => `'${a}'`).join(' '));
  const empty = await waitScreen(/Connections by process/);
  assert.match(empty, /Connections by process\n\s+\(none\)/, 'no curl traffic yet');
  assert.match(empty, new RegExp(`netwatch \\S+ at ${api.replace(/[.]/g, '\\.')} \\| ok \\| config generation 1`));

  for (let i = 0; i < N; i++) await run('curl', ['-s', '-o', '/dev/null', '--max-time', '5', `http://127.0.0.1:${webPort}/`]);
  await run('curl', ['-s', '-o', '/dev/null', '--max-time', '5', `http://127.0.0.1:${closedPort}/`]).catch(() => undefined); // refused: exit 7

  const s = await waitScreen(/│ curl\s+│ 4\s+│/);
  assert.match(s, /│ curl\s+│ 4\s+│ 0\s+│ 1\s+│ \d+\s+│/, 'curl: 4 connections, none open, 1 failed');
  assert.match(s, /│ closed\s+│ 4\s+│/, 'all four closed');
  assert.match(s, /│ ECONNREFUSED\s+│ 1\s+│/);
  assert.match(s, /4 connections \(0 open, 1 failed\)/);
  assert.match(s, /lost events: connections 0/);
  assert.match(s, /SNI names \(0 ClientHellos/);
  assert.match(s, /q: quit \| refreshed \d\d:\d\d:\d\d every 300ms/);

  tmux('send-keys', '-t', SESSION, 'q');
  const end = Date.now() + 5000;
  for (;;) {
    let alive = true;
    try {
      tmux('has-session', '-t', SESSION);
    } catch {
      alive = false;
    }
    if (!alive) break;
    if (Date.now() > end) assert.fail(`top did not quit on q:\n${screen()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
});

test('top says clearly when no agent answers, instead of failing', async () => {
  const dead = await freePort('127.0.0.1');
  const { stdout } = await run(process.execPath, [CLI, 'top', '--url', `http://127.0.0.1:${dead}`, '--once']);
  assert.match(stdout, new RegExp(`netwatch top: cannot reach the agent at http://127\\.0\\.0\\.1:${dead}: ECONNREFUSED`));
});
