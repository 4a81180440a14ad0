// An agent that dies without stopping (kill -9, an OOM kill, a crash) leaves the host as it found
// it: every attachment is a BPF link owned by its descriptors, so the kernel takes its programs
// away when the process goes. On the clsact fallback (kernels without TCX) filters outlive their
// process; there the next start sweeps what the killed agent left.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { heldBpfObjects, stillExisting, PROGRAMS } from '../helpers/bpf-objects';
import { RunningCli } from '../helpers/cli';
import { sh, tcStateIn } from '../helpers/container-netns';

const NS = 'nwkil';
const DEVS = ['lo', 'nwkila', 'nwkilb'];
const NOTHING = { clsact: false, ingress: [], egress: [] };

/** Ids of every BPF program the kernel has now. */
function loadedPrograms(): Set<number> {
  const list = JSON.parse(execFileSync('bpftool', ['-j', 'prog', 'list'], { encoding: 'utf8' })) as { id: number }[];
  return new Set(list.map((p) => p.id));
}

function config(attachMode: 'auto' | 'clsact'): string {
  const dir = mkdtempSync(join(tmpdir(), 'nw-kill-'));
  const file = join(dir, 'agent.yaml');
  writeFileSync(
    file,
    [
      'receivers:',
      '  connections:',
      '  packet_fate:',
      '    interval: 200ms',
      '  sni:',
      '    interfaces: all',
      `    attach_mode: ${attachMode}`,
      '    ports: [443]',
      'exporters:',
      '  debug:',
      'service:',
      '  pipelines:',
      '    metrics:',
      '      receivers: [connections, packet_fate, sni]',
      '      exporters: [debug]',
      '    logs:',
      '      receivers: [connections, packet_fate, sni]',
      '      exporters: [debug]',
      '',
    ].join('\n'),
  );
  return file;
}

/** Poll `cond` every 50 ms for at most `ms`; the last value it returned. */
async function within<T>(ms: number, probe: () => T, ok: (v: T) => boolean): Promise<T> {
  const end = Date.now() + ms;
  let v = probe();
  while (!ok(v) && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 50));
    v = probe();
  }
  return v;
}

const interfacesState = () => Object.fromEntries(DEVS.map((d) => [d, tcStateIn(NS, d)]));
const untouched = Object.fromEntries(DEVS.map((d) => [d, NOTHING]));

before(() => {
  try {
    sh('ip', 'netns', 'del', NS);
  } catch {
    /* not there */
  }
  sh('ip', 'netns', 'add', NS);
  sh('ip', '-n', NS, 'link', 'set', 'lo', 'up');
  sh('ip', '-n', NS, 'link', 'add', 'nwkila', 'type', 'veth', 'peer', 'name', 'nwkilb');
  for (const d of ['nwkila', 'nwkilb']) sh('ip', '-n', NS, 'link', 'set', d, 'up');
});

after(() => {
  try {
    sh('ip', 'netns', 'del', NS);
  } catch {
    /* gone */
  }
});

test('kill -9 of netwatch run with every receiver on: within 2 s none of its programs, links or TC attachments remain', async () => {
  const before = loadedPrograms();
  assert.deepEqual(interfacesState(), untouched);
  const agent = RunningCli.start(['run', '-c', config('auto')], { netns: NS });
  try {
    await agent.waitFor(/running/);
  } catch (e) {
    await agent.stop('SIGKILL');
    throw e;
  }
  let held: ReturnType<typeof heldBpfObjects>;
  let exit: unknown;
  try {
    held = heldBpfObjects(agent.pid);
    // Each program through its own link; sni's on 3 interfaces x 2 directions as TCX links.
    assert.equal(held.progIds.length, PROGRAMS.conn + PROGRAMS.packet_fate + PROGRAMS.sni, agent.output);
    assert.equal(held.linkIds.length, PROGRAMS.conn + PROGRAMS.packet_fate + DEVS.length * 2);
    assert.deepEqual(interfacesState().nwkila, { clsact: false, ingress: ['tcx sni_ingress'], egress: ['tcx sni_egress'] });
  } finally {
    // Killed on every path: an agent left running would hold its programs into the next tests.
    exit = await agent.stop('SIGKILL');
  }
  assert.equal(exit, null, 'killed by SIGKILL');
  const left = await within(
    2000,
    () => [...loadedPrograms()].filter((id) => !before.has(id)),
    (l) => l.length === 0,
  );
  assert.deepEqual(left, [], 'no program of the killed agent is loaded');
  assert.deepEqual(stillExisting('link', held.linkIds), []);
  assert.deepEqual(interfacesState(), untouched, 'no program, filter or qdisc on any interface');
});

test("on the clsact fallback, a killed agent's filters stay until the next start, which removes them, says so once, and leaves nothing when it stops", async () => {
  const before = loadedPrograms();
  const file = config('clsact');
  const first = RunningCli.start(['run', '-c', file], { netns: NS });
  try {
    await first.waitFor(/running/);
  } catch (e) {
    await first.stop('SIGKILL');
    throw e;
  }
  assert.equal(await first.stop('SIGKILL'), null);
  await new Promise((r) => setTimeout(r, 300));
  const tagged = { clsact: true, ingress: ['49527 bpf sni_ingress'], egress: ['49527 bpf sni_egress'] };
  assert.deepEqual(interfacesState(), Object.fromEntries(DEVS.map((d) => [d, tagged])), 'filters outlive their process: that is why TCX is preferred');

  const second = RunningCli.start(['run', '-c', file], { netns: NS });
  try {
    await second.waitFor(/running/);
    const removals = second.output.match(/removed the TC filters a previous netwatch left/g) ?? [];
    assert.equal(removals.length, 1, second.output);
    assert.match(second.output, /filters=lo\/ingress,lo\/egress,nwkila\/ingress,nwkila\/egress,nwkilb\/ingress,nwkilb\/egress/);
    assert.deepEqual(interfacesState(), Object.fromEntries(DEVS.map((d) => [d, tagged])), 'one set of filters: its own');
  } finally {
    assert.equal(await second.stop('SIGTERM'), 0, second.output);
  }
  assert.deepEqual(interfacesState(), untouched);
  const left = await within(
    2000,
    () => [...loadedPrograms()].filter((id) => !before.has(id)),
    (l) => l.length === 0,
  );
  assert.deepEqual(left, []);
});
