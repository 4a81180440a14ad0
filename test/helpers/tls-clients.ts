// Real TLS clients for the end-to-end tests — node's tls, `openssl s_client -servername`,
// `curl --resolve` — and raw writes of hand-made ClientHellos, each one connection, bounded in time.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import * as tls from 'node:tls';
import { selfSignedCert } from '../unit/receivers/sni/capture';

const CLIENT_TIMEOUT_MS = 10_000;
/** After a raw write, how long to leave the server to answer before closing. */
const ANSWER_WAIT_MS = 200;

const bracket = (addr: string): string => (addr.includes(':') ? `[${addr}]` : addr);

/** A directory with key.pem and cert.pem made by openssl now (test/helpers/tls-server.ts reads it). */
export function certDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'nws-cert-'));
  const { key, cert } = selfSignedCert();
  writeFileSync(join(dir, 'key.pem'), key);
  writeFileSync(join(dir, 'cert.pem'), cert);
  return dir;
}

/** Resolve once the command exits (its exit code does not matter: a refused handshake still sent its hello). */
function run(cmd: string, args: string[], netns?: string): Promise<{ code: number | null; out: string }> {
  const argv = netns ? (['ip', ['netns', 'exec', netns, cmd, ...args]] as const) : ([cmd, args] as const);
  return new Promise((resolve) => {
    const child = execFile(argv[0], [...argv[1]], { timeout: CLIENT_TIMEOUT_MS }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}` });
    });
    child.stdin?.end();
  });
}

export function opensslHello(addr: string, port: number, name: string, netns?: string): Promise<{ code: number | null; out: string }> {
  return run('openssl', ['s_client', '-connect', `${bracket(addr)}:${port}`, '-servername', name, '-alpn', 'h2,http/1.1'], netns);
}

export function curlHello(addr: string, port: number, name: string, netns?: string): Promise<{ code: number | null; out: string }> {
  return run('curl', ['-sk', '--max-time', '8', '--resolve', `${name}:${port}:${bracket(addr)}`, `https://${name}:${port}/`], netns);
}

/** One node tls connection from this process; resolves after the handshake (or its failure, or timeoutMs). */
export function nodeTlsHello(addr: string, port: number, name: string, timeoutMs = CLIENT_TIMEOUT_MS): Promise<void> {
  return new Promise((resolve) => {
    const s = tls.connect({ host: addr, port, servername: name, rejectUnauthorized: false, ALPNProtocols: ['h2'] });
    const done = (): void => {
      clearTimeout(timer);
      s.destroy();
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    s.once('secureConnect', done);
    s.once('error', done);
  });
}

/**
 * Connect and write `bytes` in pieces split at `cuts`, one TCP segment each (TCP_NODELAY and a
 * pause between writes), then close after a short wait for the answer. Resolves with the client port.
 */
export function writeInSegments(addr: string, port: number, bytes: Uint8Array, cuts: number[] = [], pauseMs = 100): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: addr, port, noDelay: true });
    let localPort = 0;
    const timer = setTimeout(() => s.destroy(), CLIENT_TIMEOUT_MS);
    s.on('error', () => {});
    s.on('data', () => {});
    s.on('close', () => {
      clearTimeout(timer);
      resolve(localPort);
    });
    // The writes are paced by timers; the async body reports its own failure through reject.
    s.once(
      'connect',
      () =>
        void (async () => {
          localPort = s.localPort ?? 0;
          try {
            let at = 0;
            for (const cut of [...cuts, bytes.length]) {
              s.write(bytes.subarray(at, cut));
              at = cut;
              if (cut < bytes.length) await new Promise((r) => setTimeout(r, pauseMs));
            }
            // A hand-made hello may leave the server waiting: the capture needs nothing more.
            setTimeout(() => s.destroy(), ANSWER_WAIT_MS);
          } catch (e) {
            reject(e instanceof Error ? e : new Error(String(e)));
          }
        })(),
    );
  });
}

/** A TCP connection attempt that nobody answers with a listener (RST): resolves with the error code. */
export function connectRefused(addr: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect({ host: addr, port });
    s.once('connect', () => {
      s.destroy();
      resolve('connected');
    });
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
  });
}

const TLS_SERVER = join(__dirname, 'tls-server.js');

/**
 * The test TLS server (tls-server.ts) under process title `title`, listening on `host` at `ports`
 * with the test certificate, in network namespace `netns` when given; resolves once it listens.
 */
export function startTlsServer(title: string, host: string, ports: readonly number[], netns?: string): Promise<ChildProcess> {
  const certs = certDir();
  const argv = [process.execPath, TLS_SERVER, title, certs, host, ...ports.map(String)];
  const [cmd, ...args] = netns ? ['ip', 'netns', 'exec', netns, ...argv] : argv;
  const child = spawn(cmd!, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  // The server reads its certificate at start; the directory goes with the server.
  child.once('exit', () => rmSync(certs, { recursive: true, force: true }));
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${title} not listening: ${err}`)), 10_000);
    createInterface({ input: child.stdout }).once('line', () => {
      clearTimeout(timer);
      resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`${title} exited ${code}: ${err}`)));
  });
}
