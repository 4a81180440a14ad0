// token_file: a workload identity's token is rotated by Nomad (its file rewritten), so the client
// reads the file again on a 403 and tries once more with what it holds now.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { NomadError } from '../../../src/errors';
import { NomadClient, resolveNomadSettings } from '../../../src/pipeline/processors/nomad_autostart/client';
import { NO_DEPLOYMENTS, NomadDouble } from '../../helpers/nomad';

const OLD = 'aaaaaaaa-0000-4000-8000-00000000old0';
const NEW = 'bbbbbbbb-0000-4000-8000-00000000new0';

describe('the Nomad client re-reads its token file on a 403', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nw-token-'));
  const file = join(dir, 'nomad_token');
  let d: NomadDouble;
  let client: NomadClient;
  before(async () => {
    d = await NomadDouble.start({ acl: true, tokens: [{ secretId: OLD, rules: [{ namespace: 'default', policy: 'write' }] }] });
    d.addJob({ ID: 'web', Update: NO_DEPLOYMENTS, TaskGroups: [{ Name: 'app', Count: 0 }] });
    writeFileSync(file, `${OLD}\n`);
    client = new NomadClient(resolveNomadSettings({ tokenFile: file, token: 'ignored-when-a-file-is-set' }, { NOMAD_ADDR: d.url }));
  });
  after(async () => {
    await client.destroy();
    await d.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('uses the token in the file', async () => {
    assert.equal((await client.jobScaleStatus('web')).value.TaskGroups.app.Desired, 0);
  });

  it('picks up a rotated token after the old one expired, in the same call', async () => {
    d.addToken({ secretId: OLD, expired: true });
    d.addToken({ secretId: NEW, rules: [{ namespace: 'default', policy: 'write' }] });
    writeFileSync(file, NEW);
    d.clearRequests();
    await client.scale('web', 'app', 1, 'wake');
    assert.equal(d.job('web')!.TaskGroups[0].Count, 1);
    assert.equal(d.count('POST', '/v1/job/web/scale'), 2, 'refused with the old token, then carried out with the new one');
  });

  it('still reports a 403 when the file holds no other token', async () => {
    d.addToken({ secretId: NEW, rules: [{ namespace: 'default', policy: 'read' }] });
    await assert.rejects(client.scale('web', 'app', 2, 'wake'), (e: unknown) => e instanceof NomadError && e.kind === 'forbidden');
  });
});
