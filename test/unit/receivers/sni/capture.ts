// Real ClientHellos from real clients on loopback: a TCP server records what each connection
// sends (and says nothing back, so the client's first flight is all there is), or a recording
// proxy in front of a real TLS server when the handshake must go further (HelloRetryRequest).
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tls from 'node:tls';
import { repoPath } from '../../../helpers/paths';

/** A connection is done once it has been quiet this long after its first bytes. */
const QUIET_MS = 300;
/** Give up on a client that sends nothing. */
const CLIENT_TIMEOUT_MS = 8000;

type Stop = () => void;

/** Listen on 127.0.0.1:0, start a client against the port, return the bytes its connection sent. */
export async function captureFirstFlight(startClient: (port: number) => Stop): Promise<Uint8Array> {
  const server = net.createServer();
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const port = (server.address() as net.AddressInfo).port;
  let stop: Stop = () => {};
  try {
    const got = new Promise<Uint8Array>((resolve, reject) => {
      const timeout = setTimeout(() => reject(new Error('the client sent nothing')), CLIENT_TIMEOUT_MS);
      server.once('connection', (s) => {
        const chunks: Buffer[] = [];
        let quiet: NodeJS.Timeout | undefined;
        const finish = (): void => {
          clearTimeout(timeout);
          clearTimeout(quiet);
          s.destroy();
          resolve(new Uint8Array(Buffer.concat(chunks)));
        };
        s.on('data', (d: Buffer) => {
          chunks.push(d);
          clearTimeout(quiet);
          quiet = setTimeout(finish, QUIET_MS);
        });
        s.on('error', () => {});
        s.on('close', finish);
      });
    });
    stop = startClient(port);
    return await got;
  } finally {
    stop();
    server.close();
  }
}

export function nodeClient(opts: { servername?: string; alpn?: string[]; extra?: tls.ConnectionOptions } = {}): (port: number) => Stop {
  return (port) => {
    const s = tls.connect({
      host: '127.0.0.1',
      port,
      ...(opts.servername !== undefined ? { servername: opts.servername } : {}),
      ...(opts.alpn ? { ALPNProtocols: opts.alpn } : {}),
      rejectUnauthorized: false,
      ...opts.extra,
    });
    s.on('error', () => {});
    return () => s.destroy();
  };
}

function childClient(cmd: string, args: (port: number) => string[]): (port: number) => Stop {
  return (port) => {
    const child: ChildProcess = spawn(cmd, args(port), { stdio: ['ignore', 'ignore', 'ignore'] });
    child.on('error', () => {});
    const kill = setTimeout(() => child.kill('SIGKILL'), CLIENT_TIMEOUT_MS);
    return () => {
      clearTimeout(kill);
      child.kill('SIGKILL');
    };
  };
}

/** `openssl s_client` with stdin closed; `extra` e.g. ['-tls1_2']. */
export function opensslClient(name: string, extra: string[] = ['-alpn', 'h2,http/1.1']): (port: number) => Stop {
  return childClient('openssl', (port) => ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', name, ...extra]);
}

/** `curl --resolve name:PORT:127.0.0.1 https://name:PORT/`. */
export function curlClient(name: string): (port: number) => Stop {
  return childClient('curl', (port) => [
    '-s',
    '-k',
    '-o',
    '/dev/null',
    '--max-time',
    String(CLIENT_TIMEOUT_MS / 1000),
    '--resolve',
    `${name}:${port}:127.0.0.1`,
    `https://${name}:${port}/`,
  ]);
}

/** A throwaway self-signed certificate from the openssl CLI (node cannot make one itself). */
export function selfSignedCert(): { key: Buffer; cert: Buffer } {
  const dir = mkdtempSync(join(tmpdir(), 'sni-cert-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=retry.example.com',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    return { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A full TLS 1.3 handshake that needs a HelloRetryRequest: the server accepts only X25519, the
 * client's first key share is P-256. A recording proxy keeps every byte the client sent.
 */
export async function captureRetriedHandshake(servername: string): Promise<Uint8Array> {
  const server = tls.createServer({ ...selfSignedCert(), ecdhCurve: 'X25519', minVersion: 'TLSv1.3' }, (s) => {
    s.on('error', () => {});
    s.end();
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const tlsPort = (server.address() as net.AddressInfo).port;
  const sent: Buffer[] = [];
  const proxy = net.createServer((c) => {
    const up = net.connect(tlsPort, '127.0.0.1');
    c.on('data', (d: Buffer) => {
      sent.push(d);
      up.write(d);
    });
    up.on('data', (d: Buffer) => c.write(d));
    c.on('end', () => up.end());
    up.on('end', () => c.end());
    c.on('error', () => up.destroy());
    up.on('error', () => c.destroy());
  });
  await new Promise<void>((res) => proxy.listen(0, '127.0.0.1', res));
  const port = (proxy.address() as net.AddressInfo).port;
  try {
    await new Promise<void>((resolve, reject) => {
      const s = tls.connect({ host: '127.0.0.1', port, servername, ecdhCurve: 'P-256:X25519', rejectUnauthorized: false, ALPNProtocols: ['h2'] });
      s.on('secureConnect', () => s.end());
      s.on('error', reject);
      s.on('close', () => resolve());
    });
    return new Uint8Array(Buffer.concat(sent));
  } finally {
    proxy.close();
    server.close();
  }
}

// ---- fixtures -------------------------------------------------------------------------------

export const FIXTURE_DIR = repoPath('test', 'fixtures', 'sni');

/** Fixtures are hex text: '#' lines describe the capture, the rest is hex in any layout. */
export function readFixture(name: string): Uint8Array {
  const text = readFileSync(join(FIXTURE_DIR, name), 'utf8');
  const hex = text
    .split('\n')
    .filter((l) => !l.startsWith('#'))
    .join('')
    .replace(/\s+/g, '');
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

export function writeFixture(name: string, description: string, bytes: Uint8Array): void {
  const hex = Buffer.from(bytes).toString('hex');
  const lines = description.split('\n').map((l) => `# ${l}`);
  for (let i = 0; i < hex.length; i += 64) lines.push(hex.slice(i, i + 64));
  writeFileSync(join(FIXTURE_DIR, name), lines.join('\n') + '\n');
}
