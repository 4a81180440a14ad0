// unix:// addresses: the Task API socket Nomad gives a task with a workload identity
// (NOMAD_UNIX_ADDR, hashicorp/nomad client/taskenv/env.go), reached as api/api.go does.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseConfig } from '../../../src/config';
import { NomadClient, resolveNomadSettings } from '../../../src/pipeline/processors/nomad_autostart/client';
import { NO_DEPLOYMENTS, NomadDouble } from '../../helpers/nomad';

describe('the Nomad client reaches Nomad over a Unix socket', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nw-nomad-'));
  const socket = join(dir, 'api.sock');
  let d: NomadDouble;
  before(async () => {
    d = await NomadDouble.start({ unixSocket: socket });
    d.addJob({ ID: 'web', Update: NO_DEPLOYMENTS, TaskGroups: [{ Name: 'app', Count: 0 }] });
  });
  after(async () => {
    await d.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('takes NOMAD_UNIX_ADDR when NOMAD_ADDR is unset, and NOMAD_ADDR first when both are set', () => {
    const s = resolveNomadSettings({}, { NOMAD_UNIX_ADDR: `unix://${socket}` });
    assert.deepEqual([s.address, s.socketPath], [`unix://${socket}`, socket]);
    const both = resolveNomadSettings({}, { NOMAD_ADDR: 'http://10.0.0.1:4646', NOMAD_UNIX_ADDR: `unix://${socket}` });
    assert.deepEqual([both.address, both.socketPath], ['http://10.0.0.1:4646', undefined]);
  });

  it('reads and scales through the socket', async () => {
    const client = new NomadClient(resolveNomadSettings({}, { NOMAD_UNIX_ADDR: `unix://${socket}` }));
    try {
      const s = await client.jobScaleStatus('web');
      assert.equal(s.value.TaskGroups.app.Desired, 0);
      await client.scale('web', 'app', 1, 'wake');
      assert.equal(d.job('web')!.TaskGroups[0].Count, 1);
      assert.equal(d.requests()[0].headers.host, '127.0.0.1');
    } finally {
      await client.destroy();
    }
  });

  it('accepts a unix:// address in agent.yaml and refuses one without a path', () => {
    const yaml = (address: string) => `
receivers:
  sni:
processors:
  nomad_autostart:
    address: ${address}
    rules:
      - { name: web, match: { sni: [a.example.com] }, job: web, group: app }
exporters:
  debug:
service:
  pipelines:
    metrics: { receivers: [sni], processors: [nomad_autostart], exporters: [debug] }
`;
    assert.doesNotThrow(() => parseConfig(yaml('unix:///secrets/api.sock'), 'unix.yaml', {}));
    assert.throws(() => parseConfig(yaml('unix://'), 'unix.yaml', {}), /a unix:\/\/ address needs the socket's path/);
  });
});
