// resolveNomadSettings follows nomad api/api.go DefaultConfig, with agent.yaml values on top.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import { ConfigError } from '../../../src/errors';
import { resolveNomadSettings } from '../../../src/pipeline/processors/nomad_autostart/client';

describe('Nomad settings are resolved from the environment and agent.yaml', () => {
  it('defaults to http://127.0.0.1:4646 with no token, namespace or region', () => {
    const s = resolveNomadSettings({}, {});
    assert.deepEqual([s.address, s.token, s.namespace, s.region, s.tls.skipVerify], ['http://127.0.0.1:4646', undefined, undefined, undefined, false]);
  });

  it('reads every NOMAD_* variable', () => {
    const s = resolveNomadSettings(
      {},
      {
        NOMAD_ADDR: 'https://nomad.example:4646',
        NOMAD_TOKEN: 'tok',
        NOMAD_NAMESPACE: 'prod',
        NOMAD_REGION: 'eu',
        NOMAD_CACERT: '/ca.pem',
        NOMAD_CAPATH: '/cas',
        NOMAD_CLIENT_CERT: '/c.pem',
        NOMAD_CLIENT_KEY: '/k.pem',
        NOMAD_TLS_SERVER_NAME: 'server.eu.nomad',
        NOMAD_SKIP_VERIFY: 'true',
        NOMAD_HTTP_AUTH: 'alice:pa:ss',
      },
    );
    assert.deepEqual([s.address, s.token, s.namespace, s.region], ['https://nomad.example:4646', 'tok', 'prod', 'eu']);
    assert.deepEqual(
      { ...s.tls },
      { caCert: '/ca.pem', caPath: '/cas', clientCert: '/c.pem', clientKey: '/k.pem', serverName: 'server.eu.nomad', skipVerify: true },
    );
    assert.deepEqual(s.httpAuth, { username: 'alice', password: 'pa:ss' });
  });

  it('lets each agent.yaml value override its variable', () => {
    const s = resolveNomadSettings(
      {
        address: 'http://10.0.0.1:4646',
        token: 'yaml-tok',
        namespace: 'ns',
        region: 'r',
        skipVerify: false,
        httpAuth: 'bob:pw',
        tlsServerName: 'x',
        timeoutMs: 1234,
      },
      {
        NOMAD_ADDR: 'http://ignored:1',
        NOMAD_TOKEN: 'env-tok',
        NOMAD_NAMESPACE: 'envns',
        NOMAD_REGION: 'envr',
        NOMAD_SKIP_VERIFY: '1',
        NOMAD_HTTP_AUTH: 'eve:x',
        NOMAD_TLS_SERVER_NAME: 'y',
      },
    );
    assert.deepEqual(
      [s.address, s.token, s.namespace, s.region, s.tls.skipVerify, s.tls.serverName, s.timeoutMs],
      ['http://10.0.0.1:4646', 'yaml-tok', 'ns', 'r', false, 'x', 1234],
    );
    assert.deepEqual(s.httpAuth, { username: 'bob', password: 'pw' });
  });

  it('treats empty values as unset, as Nomad does', () => {
    const s = resolveNomadSettings({ token: '' }, { NOMAD_ADDR: '', NOMAD_TOKEN: 'env-tok' });
    assert.deepEqual([s.address, s.token], ['http://127.0.0.1:4646', 'env-tok']);
  });

  it('parses NOMAD_SKIP_VERIFY like strconv.ParseBool and ignores nonsense', () => {
    assert.equal(resolveNomadSettings({}, { NOMAD_SKIP_VERIFY: 'T' }).tls.skipVerify, true);
    assert.equal(resolveNomadSettings({}, { NOMAD_SKIP_VERIFY: 'yes' }).tls.skipVerify, false);
  });

  it('takes NOMAD_HTTP_AUTH without a colon as a user with no password', () => {
    assert.deepEqual(resolveNomadSettings({}, { NOMAD_HTTP_AUTH: 'carol' }).httpAuth, { username: 'carol', password: '' });
  });

  it('moves credentials out of the address into basic auth', () => {
    const s = resolveNomadSettings({}, { NOMAD_ADDR: 'http://dave:hunter2@127.0.0.1:4646/' });
    assert.equal(s.address, 'http://127.0.0.1:4646');
    assert.deepEqual(s.httpAuth, { username: 'dave', password: 'hunter2' });
  });

  it('reports every problem together: bad scheme, half a client key pair, bad timeout', () => {
    assert.throws(
      () => resolveNomadSettings({ timeoutMs: 0 }, { NOMAD_ADDR: 'ftp://nomad:4646', NOMAD_CLIENT_CERT: '/c.pem' }),
      (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        assert.equal(e.problems.length, 3);
        assert.ok(e.problems.some((p) => p.includes('Both client cert and client key must be provided')));
        return true;
      },
    );
  });

  it('redacts the token and password from inspect, toString and JSON, and does not enumerate them', () => {
    const s = resolveNomadSettings({}, { NOMAD_TOKEN: 'tok-SECRET-123', NOMAD_HTTP_AUTH: 'alice:pw-SECRET-456' });
    for (const text of [
      inspect(s),
      inspect(s, { showHidden: true, depth: 5 }),
      String(s),
      `${s}`,
      JSON.stringify(s),
      JSON.stringify({ ...s }),
      inspect({ ...s }),
    ]) {
      assert.ok(!text.includes('SECRET'), text);
    }
    assert.match(inspect(s), /token: '<redacted>'/);
    assert.match(inspect(s), /username: 'alice'/);
    assert.equal(s.token, 'tok-SECRET-123');
  });

  it('is frozen', () => {
    const s = resolveNomadSettings({}, {});
    assert.ok(Object.isFrozen(s) && Object.isFrozen(s.tls));
  });
});
