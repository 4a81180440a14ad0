// Real connections from processes the test places in cgroups shaped like a plain cgroup, a Docker
// scope and a Nomad allocation scope: the enriched events name the container and allocation.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, rmdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Enricher } from '../../src/enrich/enricher';
import { enrichConnEvent } from '../../src/receivers/connections/pipeline-event';
import { cgroup2Root } from '../../src/kernel/mounts';
import { runConnProbe, type ProbeRun } from '../helpers/conn-probe';
import { runTraffic, startTraffic, stopChild } from '../helpers/processes';

describe('connections from processes in their own cgroups', () => {
  const root = cgroup2Root();
  const base = join(root, `netwatch-e2e-${process.pid}`);
  const dockerId = randomBytes(32).toString('hex');
  const allocId = randomUUID();
  const plainDir = join(base, 'plain');
  const dockerDir = join(base, `docker-${dockerId}.scope`);
  const nomadDir = join(base, 'nomad.slice', 'share.slice', `${allocId}.web.scope`);
  const made = [base, plainDir, dockerDir, join(base, 'nomad.slice'), join(base, 'nomad.slice', 'share.slice'), nomadDir];
  let run: ProbeRun;
  const enricher = new Enricher();

  before(async () => {
    for (const d of made) mkdirSync(d, { recursive: true });
    run = runConnProbe();
  });
  after(() => {
    run?.stop();
    enricher.close();
    // Children have exited, so the cgroups are empty and can be removed (deepest first).
    for (const d of [...made].reverse()) {
      try {
        rmdirSync(d);
      } catch {
        /* already gone */
      }
    }
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
    const env = {
      ...process.env,
      NOMAD_ALLOC_ID: allocId,
      NOMAD_TASK_NAME: 'web',
      NOMAD_JOB_NAME: 'shop',
      NOMAD_GROUP_NAME: 'frontend',
      NOMAD_NAMESPACE: 'prod',
    };
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
