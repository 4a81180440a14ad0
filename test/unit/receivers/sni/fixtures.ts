// The fixture catalogue: what each file under test/fixtures/sni shows and how it was made.
// Real captures come from clients run on loopback; hand-built ones from hello-builder.ts.
// Regenerate with: node <build>/test/unit/receivers/sni/make-fixtures.js --write
import {
  CHANGE_CIPHER_SPEC,
  EXT,
  GREASE_A,
  GREASE_B,
  TLS12,
  TLS13,
  X25519,
  X25519MLKEM768,
  X25519MLKEM768_SHARE_LEN,
  alpnExt,
  concat,
  echExt,
  ext,
  filler,
  handshake,
  keyShareExt,
  modernHello,
  records,
  sniExt,
  sslv2Hello,
  u16,
  vec16,
  versionsExt,
} from './hello-builder';
import { captureFirstFlight, captureRetriedHandshake, curlClient, nodeClient, opensslClient } from './capture';

export interface RealFixture {
  file: string;
  description: string;
  capture: () => Promise<Uint8Array>;
  /** What the parser must find in it. */
  expect: { sni: string | undefined; alpn: string[] };
}

export const REAL_FIXTURES: RealFixture[] = [
  {
    file: 'node-tls-connect-sni-and-alpn.hex',
    description: `node ${process.version} tls.connect({servername: 'api.example.com', ALPNProtocols: ['h2', 'http/1.1']}), OpenSSL ${process.versions.openssl}`,
    capture: () => captureFirstFlight(nodeClient({ servername: 'api.example.com', alpn: ['h2', 'http/1.1'] })),
    expect: { sni: 'api.example.com', alpn: ['h2', 'http/1.1'] },
  },
  {
    file: 'node-tls-connect-to-ip-sends-no-sni.hex',
    description: `node ${process.version} tls.connect({host: '127.0.0.1'}) with no servername: node sends no server_name for an IP`,
    capture: () => captureFirstFlight(nodeClient()),
    expect: { sni: undefined, alpn: [] },
  },
  {
    file: 'openssl-s-client-sni-and-alpn.hex',
    description: 'openssl s_client -connect 127.0.0.1:PORT -servername www.example.org -alpn h2,http/1.1 (stdin closed)',
    capture: () => captureFirstFlight(opensslClient('www.example.org')),
    expect: { sni: 'www.example.org', alpn: ['h2', 'http/1.1'] },
  },
  {
    file: 'openssl-s-client-tls12-only-has-no-supported-versions.hex',
    description: 'openssl s_client -connect 127.0.0.1:PORT -servername legacy.example.net -tls1_2 (stdin closed)',
    capture: () => captureFirstFlight(opensslClient('legacy.example.net', ['-tls1_2'])),
    expect: { sni: 'legacy.example.net', alpn: [] },
  },
  {
    file: 'curl-sni-and-alpn.hex',
    description: 'curl --resolve curl.example.com:PORT:127.0.0.1 https://curl.example.com:PORT/ (curl 7.88.1, OpenSSL, nghttp2)',
    capture: () => captureFirstFlight(curlClient('curl.example.com')),
    expect: { sni: 'curl.example.com', alpn: ['h2', 'http/1.1'] },
  },
  {
    file: 'node-hello-retry-request-client-stream.hex',
    description:
      'Everything a node tls.connect client sent through a recording proxy to a TLS 1.3 server that only accepts X25519\n' +
      "(client ecdhCurve 'P-256:X25519', servername retry.example.com): ClientHello, HelloRetryRequest from the server (not here),\n" +
      'ChangeCipherSpec + second ClientHello, then the encrypted Finished.',
    capture: () => captureRetriedHandshake('retry.example.com'),
    expect: { sni: 'retry.example.com', alpn: ['h2'] },
  },
];

export interface BuiltFixture {
  file: string;
  description: string;
  build: () => Uint8Array;
}

const longLabel = 'a'.repeat(64);
const tooLongName = Array.from({ length: 4 }, (_, i) => String.fromCharCode(0x61 + i).repeat(63)).join('.') + '.de'; // 255 chars

export const BUILT_FIXTURES: BuiltFixture[] = [
  {
    file: 'grease-in-extensions-versions-alpn-and-ciphers.hex',
    description: 'GREASE (RFC 8701) as first and last extension, first supported version, first ALPN name and first cipher suite',
    build: () =>
      records(
        handshake({
          cipherSuites: [GREASE_A, 0x1301, 0x1302],
          extensions: [
            ext(GREASE_A, new Uint8Array(0)),
            sniExt('grease.example.com'),
            alpnExt([Uint8Array.of(0x2a, 0x2a), 'h2', 'http/1.1']),
            versionsExt([GREASE_B, TLS13, TLS12]),
            keyShareExt([
              [GREASE_B, 1],
              [X25519, 32],
            ]),
            ext(GREASE_B, Uint8Array.of(0)),
          ],
        }),
      ),
  },
  {
    file: 'no-server-name-extension.hex',
    description: 'A TLS 1.3 ClientHello with extensions but no server_name',
    build: () => modernHello([alpnExt(['h2'])]),
  },
  {
    file: 'no-extensions-block.hex',
    description: 'A TLS 1.2 ClientHello that ends after compression methods (RFC 5246 §7.4.1.2 allows omitting extensions)',
    build: () => records(handshake({ extensions: undefined, cipherSuites: [0xc02f, 0x009c] })),
  },
  {
    file: 'ech-outer-hello-with-public-name.hex',
    description: 'An outer ClientHello with encrypted_client_hello (0xfe0d); server_name is the public name',
    build: () => modernHello([sniExt('public.example.net'), alpnExt(['h2', 'http/1.1']), echExt()]),
  },
  {
    file: 'sslv2-compatible-hello.hex',
    description: 'SSLv2-compatible CLIENT-HELLO per RFC 5246 App. E.2 offering TLS 1.2, no session id, 32-byte challenge',
    build: () => sslv2Hello(),
  },
  {
    file: 'sni-trailing-dot.hex',
    description: "server_name 'www.example.com.' (RFC 6066 §3: without a trailing dot)",
    build: () => modernHello([sniExt('www.example.com.')]),
  },
  {
    file: 'sni-name-too-long.hex',
    description: 'server_name of 255 characters (RFC 1035 §2.3.4 allows 253 in text)',
    build: () => modernHello([sniExt(tooLongName)]),
  },
  {
    file: 'sni-label-too-long.hex',
    description: 'server_name with a 64-character label (RFC 1035 §2.3.4 allows 63)',
    build: () => modernHello([sniExt(`${longLabel}.example.com`)]),
  },
  {
    file: 'sni-bad-characters.hex',
    description: "server_name 'bad_name.example.com' (underscore is not LDH)",
    build: () => modernHello([sniExt('bad_name.example.com')]),
  },
  {
    file: 'sni-idn-a-label.hex',
    description: "server_name 'XN--Bcher-kva.Example' (an IDN A-label, mixed case: reported lower-cased, punycode kept)",
    build: () => modernHello([sniExt('XN--Bcher-kva.Example')]),
  },
  {
    file: 'hello-split-across-two-records.hex',
    description: 'One ClientHello handshake message in two TLS records of 100 bytes and the rest',
    build: () => records(handshake({ extensions: [sniExt('split.example.com'), versionsExt([TLS13]), keyShareExt([[X25519, 32]])] }), [100]),
  },
  {
    file: 'large-hello-post-quantum-key-share.hex',
    description: 'A ClientHello over 1500 bytes: X25519MLKEM768 (1216-byte share) and X25519 key shares, plus padding',
    build: () => largeHello(),
  },
];

function largeHello(): Uint8Array {
  return records(
    handshake({
      extensions: [
        sniExt('pq.example.com'),
        alpnExt(['h2']),
        [EXT.supportedGroups, vec16(concat(u16(X25519MLKEM768), u16(X25519)))],
        versionsExt([TLS13]),
        keyShareExt([
          [X25519MLKEM768, X25519MLKEM768_SHARE_LEN],
          [X25519, 32],
        ]),
        ext(EXT.padding, new Uint8Array(300)),
      ],
    }),
  );
}

/** RFC 8446 §4.2.2 cookie extension type: a retried hello echoes the server's cookie. */
const EXT_COOKIE = 44;

/** A client's flight after a HelloRetryRequest: ChangeCipherSpec then the second hello (with a cookie). */
export function retriedFlight(name: string): Uint8Array {
  return concat(CHANGE_CIPHER_SPEC, modernHello([sniExt(name), ext(EXT_COOKIE, vec16(filler(40, 8)))]));
}
