// A real TLS server for the end-to-end tests (node's tls with a certificate the test made with
// openssl), on several ports of one address; every connection is answered and closed.
// Usage: node tls-server.js <title> <cert-dir> <host> <port>...; prints one JSON line when listening.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tls from 'node:tls';

const [title, dir, host, ...ports] = process.argv.slice(2);
process.title = title;
const opts = { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')), ALPNProtocols: ['h2', 'http/1.1'] };
let listening = 0;
for (const p of ports) {
  const srv = tls.createServer(opts, (s) => {
    s.on('error', () => {});
    s.end('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok');
  });
  srv.on('tlsClientError', () => {}); // hand-made hellos are expected to fail the handshake
  srv.listen(Number(p), host, () => {
    if (++listening === ports.length) process.stdout.write(JSON.stringify({ ready: true, pid: process.pid }) + '\n');
  });
}
