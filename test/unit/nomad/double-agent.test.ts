// The double's GET /v1/agent/self follows command/agent/agent_endpoint.go AgentSelfRequest.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { NomadDouble, rawCall } from '../../helpers/nomad';

describe('the double answers /v1/agent/self as a Nomad agent does', () => {
  let d: NomadDouble | undefined;
  afterEach(async () => {
    await d?.stop();
    d = undefined;
  });

  it("as a server: its version in config.Version and its serf member's build tag", async () => {
    d = await NomadDouble.start({ server: { version: '2.0.5' } });
    const self = (await rawCall(d.url, 'GET', '/v1/agent/self')).json();
    assert.deepEqual(
      [self.config.Version.Version, self.config.Version.VersionPrerelease, self.member.Tags.build, self.member.Status],
      ['2.0.5', '', '2.0.5', 'alive'],
    );
  });

  it('as a client: its own version, and a zero member without tags', async () => {
    d = await NomadDouble.start({ server: { version: '2.0.5' }, agent: { server: false, version: '1.10.3-beta.1+ent' } });
    const self = (await rawCall(d.url, 'GET', '/v1/agent/self')).json();
    assert.deepEqual(
      [self.config.Version.Version, self.config.Version.VersionPrerelease, self.config.Version.VersionMetadata, self.member.Tags, self.member.Status],
      ['1.10.3', 'beta.1', 'ent', null, 'none'],
    );
  });

  it('needs agent:read: a namespace policy alone gets 403 "Permission denied"', async () => {
    d = await NomadDouble.start({
      acl: true,
      tokens: [
        { secretId: 'jobs-only', rules: [{ namespace: '*', policy: 'write' }] },
        { secretId: 'agent-reader', agent: 'read' },
        { secretId: 'mgmt', management: true },
      ],
    });
    const denied = await rawCall(d.url, 'GET', '/v1/agent/self', { token: 'jobs-only' });
    assert.deepEqual([denied.status, denied.text], [403, 'Permission denied']);
    assert.equal((await rawCall(d.url, 'GET', '/v1/agent/self')).status, 403, 'anonymous');
    assert.equal((await rawCall(d.url, 'GET', '/v1/agent/self', { token: 'agent-reader' })).status, 200);
    assert.equal((await rawCall(d.url, 'GET', '/v1/agent/self', { token: 'mgmt' })).status, 200);
    assert.deepEqual([(await rawCall(d.url, 'PUT', '/v1/agent/self', { token: 'mgmt' })).status], [405]);
  });

  it('answers without a leader: the agent answers itself', async () => {
    d = await NomadDouble.start();
    d.setLeader(false);
    assert.equal((await rawCall(d.url, 'GET', '/v1/agent/self')).status, 200);
  });
});
