// `interfaces: all` means every Ethernet/loopback interface of the agent's network namespace that
// is up or has an address, and those that appear (or are set up) later. Run inside a namespace of
// the test's own: lo is watched, a down interface with no address is not, a hello over lo (seen on
// its egress and again on its ingress) is counted once, a new veth is picked up, and nothing stays
// attached after SIGTERM.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, test } from 'node:test';
import { sh, tcStateIn } from '../helpers/container-netns';
import { curlHello, opensslHello, startTlsServer } from '../helpers/tls-clients';

const NS = 'nwsan';
const PORT = 8443;
const HELPER = join(__dirname, '../helpers/sni-all.js');

interface Line {
  ready?: boolean;
  interfaces?: string[];
  event?: { kind: string; serverName?: string; direction: string; interfaceName: string; networkType: string };
}

let child: ChildProcess;
let server: ChildProcess;
const lines: Line[] = [];
let interfaces: string[] = [];

async function until(what: string, cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(lines)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
const hellos = () => lines.flatMap((l) => (l.event?.kind === 'client_hello' ? [l.event] : []));

before(async () => {
  try {
    sh('ip', 'netns', 'del', NS);
  } catch {
    /* not there */
  }
  sh('ip', 'netns', 'add', NS);
  sh('ip', '-n', NS, 'link', 'set', 'lo', 'up');
  sh('ip', '-n', NS, 'link', 'add', 'nwsaa', 'type', 'veth', 'peer', 'name', 'nwsab');
  for (const dev of ['nwsaa', 'nwsab']) sh('ip', '-n', NS, 'link', 'set', dev, 'up');
  // A spare pair, down and without addresses: nothing can cross it until someone sets it up.
  sh('ip', '-n', NS, 'link', 'add', 'nwsae', 'type', 'veth', 'peer', 'name', 'nwsaf');
  server = await startTlsServer('nws-all-tls', '::', [PORT], NS);
  child = spawn('ip', ['netns', 'exec', NS, process.execPath, HELPER, String(PORT)], { stdio: ['ignore', 'pipe', 'inherit'] });
  createInterface({ input: child.stdout! }).on('line', (l) => {
    const o = JSON.parse(l) as Line;
    lines.push(o);
    if (o.interfaces) interfaces = o.interfaces;
  });
  await until('the receiver', () => lines.some((l) => l.ready));
});

after(() => {
  if (child?.exitCode === null) child.kill('SIGKILL');
  server?.kill();
  try {
    sh('ip', 'netns', 'del', NS);
  } catch {
    /* gone */
  }
});

test('all = every interface of the namespace at start, loopback included, but not those down with no address', () => {
  assert.deepEqual(interfaces, ['lo', 'nwsaa', 'nwsab']);
  assert.deepEqual(tcStateIn(NS, 'nwsaa'), { clsact: false, ingress: ['tcx sni_ingress'], egress: ['tcx sni_egress'] });
  assert.deepEqual(tcStateIn(NS, 'nwsae'), { clsact: false, ingress: [], egress: [] });
});

test('a down interface with no address is watched once it is set up, at the next rescan', async () => {
  sh('ip', '-n', NS, 'link', 'set', 'nwsae', 'up');
  await until('the interface set up', () => interfaces.includes('nwsae'));
  assert.deepEqual(interfaces, ['lo', 'nwsaa', 'nwsab', 'nwsae']);
  sh('ip', '-n', NS, 'link', 'del', 'nwsae');
  await until('the pair removed', () => !interfaces.includes('nwsae'));
});

test('a hello over loopback, seen leaving and arriving, is counted once, at its egress', async () => {
  await opensslHello('127.0.0.1', PORT, 'lo4.example', NS);
  await curlHello('::1', PORT, 'lo6.example', NS);
  await until('two hellos', () => hellos().length >= 2);
  await new Promise((r) => setTimeout(r, 400));
  assert.deepEqual(hellos(), [
    { kind: 'client_hello', serverName: 'lo4.example', direction: 'egress', interfaceName: 'lo', networkType: 'ipv4' },
    { kind: 'client_hello', serverName: 'lo6.example', direction: 'egress', interfaceName: 'lo', networkType: 'ipv6' },
  ]);
  assert.equal(lines.filter((l) => l.event?.kind === 'syn').length, 2, 'one SYN each');
});

test('an interface that appears later is watched after the next rescan, one that goes away is forgotten', async () => {
  sh('ip', '-n', NS, 'link', 'add', 'nwsac', 'type', 'veth', 'peer', 'name', 'nwsad');
  for (const dev of ['nwsac', 'nwsad']) sh('ip', '-n', NS, 'link', 'set', dev, 'up');
  await until('the new veth pair', () => interfaces.includes('nwsac') && interfaces.includes('nwsad'));
  assert.deepEqual(tcStateIn(NS, 'nwsac'), { clsact: false, ingress: ['tcx sni_ingress'], egress: ['tcx sni_egress'] });
  sh('ip', '-n', NS, 'link', 'del', 'nwsaa');
  await until('the removed pair forgotten', () => !interfaces.includes('nwsaa') && !interfaces.includes('nwsab'));
  assert.deepEqual(interfaces, ['lo', 'nwsac', 'nwsad']);
});

test('after SIGTERM no program, filter or clsact qdisc is left on any interface of the namespace', async () => {
  const code = await new Promise<number | null>((resolve) => {
    child.once('exit', (c) => resolve(c));
    child.kill('SIGTERM');
  });
  assert.equal(code, 0);
  for (const dev of ['lo', 'nwsac', 'nwsad']) assert.deepEqual(tcStateIn(NS, dev), { clsact: false, ingress: [], egress: [] }, dev);
});
