// Blocking queries get a connection pool of their own (issue 15): with more groups waiting for
// readiness than the request pool has connections, a new wake's read and scale are not queued.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { NomadClient, resolveNomadSettings } from '../../../src/pipeline/processors/nomad_autostart/client';
import { NO_DEPLOYMENTS, NomadDouble } from '../../helpers/nomad';

const WAITING = 20;

describe('the Nomad client keeps long polls off the request pool', () => {
  let d: NomadDouble;
  let client: NomadClient;
  before(async () => {
    d = await NomadDouble.start();
    for (let i = 0; i < WAITING; i++) d.addJob({ ID: `w${i}`, Update: NO_DEPLOYMENTS, TaskGroups: [{ Name: 'g', Count: 0 }] });
    d.addJob({ ID: 'new', Update: NO_DEPLOYMENTS, TaskGroups: [{ Name: 'g', Count: 0 }] });
    client = new NomadClient(resolveNomadSettings({}, { NOMAD_ADDR: d.url }));
  });
  after(async () => {
    await client.destroy();
    await d.stop();
  });

  it(`reads and scales a new group at once while ${WAITING} groups wait in blocking queries`, async () => {
    const waits = [];
    for (let i = 0; i < WAITING; i++) {
      const s = await client.jobScaleStatus(`w${i}`);
      waits.push(client.jobScaleStatus(`w${i}`, undefined, { index: s.index + 1_000_000, waitMs: 1500 }).catch(() => undefined));
    }
    await new Promise((r) => setTimeout(r, 50)); // every wait is at the server
    const t0 = performance.now();
    const status = await client.jobScaleStatus('new');
    await client.scale('new', 'g', 1, 'wake');
    const took = performance.now() - t0;
    assert.equal(status.value.TaskGroups.g.Desired, 0);
    assert.ok(took < 500, `the wake's two calls took ${Math.round(took)} ms: queued behind the long polls`);
    assert.ok(d.connections() >= WAITING + 1, 'the waits hold connections of their own');
    await Promise.all(waits);
  });
});
