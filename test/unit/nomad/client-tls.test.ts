// The client over HTTPS: CA file or directory, server name, skip-verify and client certificates,
// against the double served with a throwaway CA made by openssl.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConfigError, NomadError } from '../../../src/errors';
import { NomadClient, resolveNomadSettings } from '../../../src/pipeline/processors/nomad_autostart/client';
import { NO_DEPLOYMENTS, NomadDouble } from '../../helpers/nomad';

const SERVER_NAME = 'server.global.nomad'; // the name Nomad's own certificates carry

/** A CA, a server cert for SERVER_NAME only (no IP SAN), and a client cert, all signed by the CA. */
function makePki(dir: string): void {
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=netwatch test CA');
  for (const [name, ext] of [
    ['server', `subjectAltName=DNS:${SERVER_NAME}\nextendedKeyUsage=serverAuth`],
    ['client', 'extendedKeyUsage=clientAuth'],
  ]) {
    writeFileSync(join(dir, `${name}.ext`), ext);
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
    ssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.pem`,
      '-days',
      '1',
      '-extfile',
      `${name}.ext`,
    );
  }
  mkdirSync(join(dir, 'cas'));
  writeFileSync(join(dir, 'cas', 'nomad-ca.crt'), readFileSync(join(dir, 'ca.pem')));
}

describe('the Nomad client speaks TLS as NOMAD_CACERT, NOMAD_CAPATH, NOMAD_TLS_SERVER_NAME and friends say', () => {
  let dir: string;
  let d: NomadDouble;
  const env = (extra: Record<string, string>) => ({ NOMAD_ADDR: d.url, ...extra });
  const readWith = async (e: Record<string, string>): Promise<string> => {
    const c = new NomadClient(resolveNomadSettings({ timeoutMs: 3000 }, env(e)));
    try {
      return (await c.readJob('web')).value.ID;
    } finally {
      await c.close();
    }
  };
  const failWith = async (e: Record<string, string>): Promise<NomadError> => {
    try {
      await readWith(e);
    } catch (err) {
      assert.ok(err instanceof NomadError, String(err));
      return err;
    }
    assert.fail('expected a TLS failure');
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'netwatch-nomad-tls-'));
    makePki(dir);
    d = await NomadDouble.start({
      tls: {
        cert: readFileSync(join(dir, 'server.pem')),
        key: readFileSync(join(dir, 'server.key')),
        ca: readFileSync(join(dir, 'ca.pem')),
        requestCert: true,
      },
    });
    d.addJob({ ID: 'web', Update: NO_DEPLOYMENTS, TaskGroups: [{ Name: 'app', Count: 0 }] });
  });
  after(async () => {
    await d.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const clientPair = () => ({ NOMAD_CLIENT_CERT: join(dir, 'client.pem'), NOMAD_CLIENT_KEY: join(dir, 'client.key') });

  it('connects with the CA file, the server name and a client certificate', async () => {
    assert.equal(await readWith({ NOMAD_CACERT: join(dir, 'ca.pem'), NOMAD_TLS_SERVER_NAME: SERVER_NAME, ...clientPair() }), 'web');
  });

  it('connects with a CA directory instead of a file', async () => {
    assert.equal(await readWith({ NOMAD_CAPATH: join(dir, 'cas'), NOMAD_TLS_SERVER_NAME: SERVER_NAME, ...clientPair() }), 'web');
  });

  it('fails as tls when the server name is not given, since the certificate does not name 127.0.0.1', async () => {
    const e = await failWith({ NOMAD_CACERT: join(dir, 'ca.pem'), ...clientPair() });
    assert.equal(e.kind, 'tls');
    assert.match(e.message, /ERR_TLS_CERT_ALTNAME_INVALID/);
  });

  it('fails as tls without the CA', async () => {
    const e = await failWith({ NOMAD_TLS_SERVER_NAME: SERVER_NAME, ...clientPair() });
    assert.equal(e.kind, 'tls');
  });

  it('connects without the CA when NOMAD_SKIP_VERIFY is true', async () => {
    assert.equal(await readWith({ NOMAD_SKIP_VERIFY: 'true', ...clientPair() }), 'web');
  });

  it('is refused without a client certificate when the server demands one', async () => {
    const e = await failWith({ NOMAD_CACERT: join(dir, 'ca.pem'), NOMAD_TLS_SERVER_NAME: SERVER_NAME });
    assert.ok(e.kind === 'tls' || e.kind === 'connection', e.message);
  });

  it('reports an unreadable CA file as a configuration error when the client is made', () => {
    assert.throws(
      () => new NomadClient(resolveNomadSettings({}, env({ NOMAD_CACERT: join(dir, 'missing.pem') }))),
      (e: unknown) => e instanceof ConfigError && e.problems[0].includes('NOMAD_CACERT') && e.problems[0].includes('ENOENT'),
    );
  });
});
