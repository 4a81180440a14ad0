// `netwatch top --once` against an agent API (the server over synthetic events): the token comes
// from --token or NETWATCH_API_TOKEN, a missing one is said plainly, bad flags exit 2.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { connEvent } from '../pipeline/events';
import { NOW, startHarness, type Harness } from '../server/harness';

const CLI = join(__dirname, '../../../src/cli/main.js');
const run = promisify(execFile);
const TOKEN = 'top-token-0123456789abcdef';
let h: Harness;

before(async () => {
  h = await startHarness({ bearer_token: TOKEN });
  // Within --since of the real clock: the harness clock is fixed, so put the events at its now.
  h.store.add(connEvent({ sock: 5n, kind: 'connect', timeUnixMs: NOW, pid: 7, exe: 'wget', process: { pid: 7, executableName: 'wget', commandLine: 'wget' } }));
});
after(() => h.stop());

interface Ran {
  stdout: string;
  stderr: string;
  code?: number;
}
const top = (args: string[], env: NodeJS.ProcessEnv = {}): Promise<Ran> =>
  run(process.execPath, [CLI, 'top', '--url', h.url, '--once', ...args], { env: { ...process.env, NETWATCH_API_TOKEN: '', ...env } }).catch((e: Ran) => e);

test('with the token from NETWATCH_API_TOKEN it prints a frame of the agent', async () => {
  const r = await top([], { NETWATCH_API_TOKEN: TOKEN });
  assert.match(r.stdout, new RegExp(`^netwatch 9\\.9\\.9 at ${h.url.replace(/\./g, '\\.')} \\| ok \\| config generation 1`, 'm'));
  assert.match(r.stdout, /│ wget\s+│ 1\s+│ 1\s+│ 0\s+│ 1\s+│/);
  assert.doesNotMatch(r.stdout, new RegExp(TOKEN));
});

test('with --token too; without one it says what to do', async () => {
  assert.match((await top(['--token', TOKEN])).stdout, /Connections by process/);
  assert.match((await top([])).stdout, /netwatch top: the agent wants a bearer token: give --token or set NETWATCH_API_TOKEN/);
});

test('a bad --interval or --since exits 2 naming the flag', async () => {
  const r = await top(['--interval', 'often', '--since', 'ages']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--interval: must be a duration of at least 100ms such as 2s, got "often"/);
  assert.match(r.stderr, /--since: must be a duration such as 60s or 5m, got "ages"/);
});
