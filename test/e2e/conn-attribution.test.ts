// Real connections from processes the test places in cgroups shaped like a plain cgroup, a Docker
// scope and a Nomad allocation scope: the enriched events name the container and allocation.
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { Enricher } from '../../src/enrich/enricher';
import { enrichConnEvent } from '../../src/receivers/connections/pipeline-event';
import { containerCgroups } from '../helpers/cgroups';
import { runConnProbe, type ProbeRun } from '../helpers/conn-probe';
import { runTraffic, startTraffic, stopChild } from '../helpers/processes';

describe('connections from processes in their own cgroups', () => {
  const cgroups = containerCgroups('cg', 'web', ['plain']);
  const { root, dockerId, allocId, dockerDir, nomadDir } = cgroups;
  const plainDir = cgroups.dir('plain');
  let run: ProbeRun;
  const enricher = new Enricher();

  before(async () => {
    cgroups.make();
    run = runConnProbe();
  });
  after(() => {
    run?.stop();
    enricher.close();
    // Children have exited, so the cgroups are empty and can be removed (deepest first).
    cgroups.remove();
  });

  /** A server placed in the cgroup accepts two connections; its events are enriched while it lives. */
  async function acceptIn(dir: string, title: string, env?: NodeJS.ProcessEnv) {
    const srv = await startTraffic(title, 'tcp-server', ['127.0.0.1'], { cgroupDir: dir, env });
    try {
      await runTraffic('nwt-cg-cli', 'tcp-clients', ['127.0.0.1', srv.info.port as number, 2]);
      await run.until((ev) => ev.filter((e) => e.pid === srv.pid && e.kind === 'close').length >= 2, `closes in ${title}`);
      const evs = run.events.filter((e) => e.pid === srv.pid && (e.kind === 'accept' || e.kind === 'close'));
      assert.equal(evs.length, 4);
      return evs.map((e) => enrichConnEvent(enricher, e));
    } finally {
      await stopChild(srv);
    }
  }

  test('a plain cgroup: the events carry its cgroup id and path', async () => {
    const evs = await acceptIn(plainDir, 'nwt-cg-plain');
    for (const e of evs) {
      assert.equal(e.cgroupId, statSync(plainDir).ino);
      assert.equal(e.container?.cgroupPath, plainDir.slice(root.length));
      assert.equal(e.process?.executableName, 'node');
    }
  });

  test('a Docker-shaped scope: runtime docker and the container id', async () => {
    const evs = await acceptIn(dockerDir, 'nwt-cg-docker');
    for (const e of evs) {
      assert.equal(e.container?.runtime, 'docker');
      assert.equal(e.container?.id, dockerId);
    }
  });

  test('a Nomad allocation scope: alloc id and task from the path, job, group and namespace from the task environment', async () => {
    const env = cgroups.nomadEnv({ job: 'shop', group: 'frontend', namespace: 'prod' });
    const evs = await acceptIn(nomadDir, 'nwt-cg-nomad', env);
    for (const e of evs) {
      assert.equal(e.nomad?.allocId, allocId);
      assert.equal(e.nomad?.task, 'web');
      assert.equal(e.nomad?.job, 'shop');
      assert.equal(e.nomad?.group, 'frontend');
      assert.equal(e.nomad?.namespace, 'prod');
    }
  });
});
