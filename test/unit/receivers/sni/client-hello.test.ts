import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  HELLO_REJECTIONS,
  frameClientHello,
  isGrease,
  parseClientHello,
  parseClientHelloMessage,
  type HelloParseResult,
  type HelloRejection,
} from '../../../../src/receivers/sni/client-hello';
import { readFixture } from './capture';
import {
  EXT,
  GREASE_A,
  TLS12,
  TLS13,
  alpnExt,
  concat,
  echExt,
  ext,
  handshake,
  modernHello,
  records,
  sniExt,
  sslv2Hello,
  u16,
  u8,
  vec16,
  vec8,
  versionsExt,
} from './hello-builder';

function hello(r: HelloParseResult) {
  assert.ok(r.ok, `expected a parsed hello, got ${JSON.stringify(r)}`);
  return r.hello;
}
function reason(r: HelloParseResult): HelloRejection {
  assert.ok(!r.ok, `expected a rejection, got ${JSON.stringify(r)}`);
  return r.reason;
}
const withName = (name: string | Uint8Array) => parseClientHello(modernHello([sniExt(name)]));

// ---- real clients ----

test('node tls.connect hello yields its server name, ALPN list and TLS 1.3 + 1.2', () => {
  const h = hello(parseClientHello(readFixture('node-tls-connect-sni-and-alpn.hex')));
  assert.equal(h.serverName, 'api.example.com');
  assert.deepEqual(h.alpn, ['h2', 'http/1.1']);
  assert.deepEqual(h.supportedVersions, [TLS13, TLS12]);
  assert.equal(h.legacyVersion, TLS12);
  assert.equal(h.ech, false);
  assert.equal(h.sslv2, false);
  assert.equal(h.extensionTypes[0], EXT.serverName);
  assert.ok(h.cipherSuiteCount > 10);
});

test('openssl s_client hello yields the -servername and -alpn values', () => {
  const h = hello(parseClientHello(readFixture('openssl-s-client-sni-and-alpn.hex')));
  assert.equal(h.serverName, 'www.example.org');
  assert.deepEqual(h.alpn, ['h2', 'http/1.1']);
  assert.ok(h.supportedVersions.includes(TLS13));
});

test('an openssl hello limited to TLS 1.2 has a name but no supported_versions', () => {
  const h = hello(parseClientHello(readFixture('openssl-s-client-tls12-only-has-no-supported-versions.hex')));
  assert.equal(h.serverName, 'legacy.example.net');
  assert.deepEqual(h.supportedVersions, []);
  assert.ok(!h.extensionTypes.includes(EXT.supportedVersions));
});

test('curl hello (padded to 512 bytes) yields its --resolve name and h2 first', () => {
  const bytes = readFixture('curl-sni-and-alpn.hex');
  const h = hello(parseClientHello(bytes));
  assert.equal(h.serverName, 'curl.example.com');
  assert.deepEqual(h.alpn, ['h2', 'http/1.1']);
  assert.ok(h.extensionTypes.includes(EXT.padding));
});

test('node connecting to an IP literal sends no server_name and that parses as a hello without SNI', () => {
  const h = hello(parseClientHello(readFixture('node-tls-connect-to-ip-sends-no-sni.hex')));
  assert.equal(h.serverName, undefined);
  assert.ok(!h.extensionTypes.includes(EXT.serverName));
});

// ---- hand-built: the shape of the output ----

test('GREASE values are dropped from extension types, versions, ALPN and the cipher count', () => {
  const h = hello(parseClientHello(readFixture('grease-in-extensions-versions-alpn-and-ciphers.hex')));
  assert.equal(h.serverName, 'grease.example.com');
  assert.deepEqual(h.extensionTypes, [EXT.serverName, EXT.alpn, EXT.supportedVersions, EXT.keyShare]);
  assert.deepEqual(h.supportedVersions, [TLS13, TLS12]);
  assert.deepEqual(h.alpn, ['h2', 'http/1.1']);
  assert.equal(h.cipherSuiteCount, 2);
});

test('GREASE is exactly the 0x?A?A pattern with equal bytes', () => {
  for (let hi = 0; hi < 16; hi++) assert.ok(isGrease((hi << 12) | 0x0a00 | (hi << 4) | 0x0a));
  for (const v of [0x0a1a, 0x1a0a, 0x0a0b, 0x0b0a, 0x0000, 0x1301, 0xfe0d, 0xabab]) assert.equal(isGrease(v), false, v.toString(16));
});

test('a hello with extensions but no server_name is accepted with no name', () => {
  const h = hello(parseClientHello(readFixture('no-server-name-extension.hex')));
  assert.equal(h.serverName, undefined);
  assert.deepEqual(h.alpn, ['h2']);
});

test('a hello that ends after compression methods has no extensions and is accepted', () => {
  const h = hello(parseClientHello(readFixture('no-extensions-block.hex')));
  assert.equal(h.serverName, undefined);
  assert.deepEqual(h.extensionTypes, []);
  assert.equal(h.cipherSuiteCount, 2);
});

test('an ECH extension marks the hello and the name seen is the outer public name', () => {
  const h = hello(parseClientHello(readFixture('ech-outer-hello-with-public-name.hex')));
  assert.equal(h.ech, true);
  assert.equal(h.serverName, 'public.example.net');
  assert.ok(h.extensionTypes.includes(EXT.ech));
});

test('an SSLv2-compatible hello is accepted, flagged sslv2, with its version and no SNI', () => {
  const h = hello(parseClientHello(readFixture('sslv2-compatible-hello.hex')));
  assert.equal(h.sslv2, true);
  assert.equal(h.legacyVersion, TLS12);
  assert.equal(h.cipherSuiteCount, 4);
  assert.equal(h.serverName, undefined);
});

test('SSLv2-compatible hellos with impossible fields are rejected as bad_sslv2 or bad_length', () => {
  assert.equal(reason(parseClientHello(sslv2Hello({ challengeLen: 8 }))), 'bad_sslv2');
  assert.equal(reason(parseClientHello(sslv2Hello({ sessionIdLen: 5 }))), 'bad_sslv2');
  assert.equal(reason(parseClientHello(sslv2Hello({ cipherSpecs: [] }))), 'bad_sslv2');
  const typeTwo = sslv2Hello();
  typeTwo[2] = 2;
  assert.equal(reason(parseClientHello(typeTwo)), 'bad_sslv2');
  const longer = concat(sslv2Hello(), u8(0));
  longer[1] += 1; // msg_length now also covers the extra byte, which no field accounts for
  assert.equal(reason(parseClientHello(longer)), 'bad_length');
});

test('a hello split across two TLS records is joined', () => {
  const h = hello(parseClientHello(readFixture('hello-split-across-two-records.hex')));
  assert.equal(h.serverName, 'split.example.com');
});

test('a hello split into many records, even inside its 4-byte header, is joined', () => {
  const msg = handshake({ extensions: [sniExt('tiny.records.example'), alpnExt(['h2'])] });
  const bytes = records(msg, [1, 2, 1, 7, 3]);
  assert.equal(hello(parseClientHello(bytes)).serverName, 'tiny.records.example');
});

test('a hello over 1500 bytes with a post-quantum key share parses', () => {
  const bytes = readFixture('large-hello-post-quantum-key-share.hex');
  assert.ok(bytes.length > 1500);
  const h = hello(parseClientHello(bytes));
  assert.equal(h.serverName, 'pq.example.com');
  assert.deepEqual(h.alpn, ['h2']);
});

test('unknown extensions are skipped and still listed in order', () => {
  const h = hello(parseClientHello(modernHello([ext(0x4444, Uint8Array.of(1, 2, 3)), sniExt('x.example')])));
  assert.equal(h.serverName, 'x.example');
  assert.deepEqual(h.extensionTypes.slice(0, 2), [0x4444, EXT.serverName]);
});

test('ALPN names that are not printable ASCII are escaped, not passed through', () => {
  const h = hello(parseClientHello(modernHello([alpnExt([Uint8Array.of(0x68, 0x00, 0x5c, 0xff)])])));
  assert.deepEqual(h.alpn, ['h\\x00\\x5c\\xff']);
});

// ---- server name rules ----

test('a name with a trailing dot is rejected as trailing_dot', () => {
  assert.equal(reason(parseClientHello(readFixture('sni-trailing-dot.hex'))), 'trailing_dot');
});

test('a name over 253 characters is rejected as name_too_long', () => {
  assert.equal(reason(parseClientHello(readFixture('sni-name-too-long.hex'))), 'name_too_long');
});

test('a 253-character name of 63-character labels is accepted', () => {
  const name = ['a', 'b', 'c'].map((c) => c.repeat(63)).join('.') + '.' + 'd'.repeat(61);
  assert.equal(name.length, 253);
  assert.equal(hello(withName(name)).serverName, name);
});

test('a label over 63 characters is rejected as label_too_long', () => {
  assert.equal(reason(parseClientHello(readFixture('sni-label-too-long.hex'))), 'label_too_long');
});

test('characters outside letters, digits and hyphen are rejected as bad_characters', () => {
  assert.equal(reason(parseClientHello(readFixture('sni-bad-characters.hex'))), 'bad_characters');
  for (const bad of ['a b.example', 'a*.example', 'bücher.example', 'a\u0000b.example', '[::1]', 'a:443']) {
    assert.equal(reason(withName(new TextEncoder().encode(bad))), 'bad_characters', bad);
  }
  assert.equal(reason(withName(Uint8Array.of(0x61, 0xc3, 0xbc))), 'bad_characters');
});

test('a label starting or ending with a hyphen is rejected as bad_characters', () => {
  assert.equal(reason(withName('-a.example')), 'bad_characters');
  assert.equal(reason(withName('a-.example')), 'bad_characters');
  assert.equal(hello(withName('a-b.example')).serverName, 'a-b.example');
});

test('an IDN A-label is kept as is, lower-cased', () => {
  assert.equal(hello(parseClientHello(readFixture('sni-idn-a-label.hex'))).serverName, 'xn--bcher-kva.example');
});

test('an empty name, empty labels and IPv4 literals are each rejected with their own reason', () => {
  assert.equal(reason(withName('')), 'empty_name');
  assert.equal(reason(withName('a..example')), 'empty_label');
  assert.equal(reason(withName('.example')), 'empty_label');
  assert.equal(reason(withName('192.168.1.10')), 'ip_literal');
  assert.equal(hello(withName('1.2.3')).serverName, '1.2.3');
});

test('a server_name list with two host_name entries is rejected as bad_sni_list', () => {
  const two = vec16(concat(u8(0), vec16(new TextEncoder().encode('a.example')), u8(0), vec16(new TextEncoder().encode('b.example'))));
  assert.equal(reason(parseClientHello(modernHello([ext(EXT.serverName, two)]))), 'bad_sni_list');
});

test('server_name entries of unknown name types are skipped', () => {
  const list = vec16(concat(u8(7), vec16(Uint8Array.of(1, 2)), u8(0), vec16(new TextEncoder().encode('c.example'))));
  assert.equal(hello(parseClientHello(modernHello([ext(EXT.serverName, list)]))).serverName, 'c.example');
});

test('server_name with an empty list, a list length off by one, or a name overrunning it is bad_sni_list', () => {
  assert.equal(reason(parseClientHello(modernHello([ext(EXT.serverName, u16(0))]))), 'bad_sni_list');
  assert.equal(reason(parseClientHello(modernHello([ext(EXT.serverName, new Uint8Array(0))]))), 'bad_sni_list');
  const good = sniExt('a.example')[1];
  const shortList = good.slice();
  shortList[1] -= 1;
  assert.equal(reason(parseClientHello(modernHello([ext(EXT.serverName, shortList)]))), 'bad_sni_list');
  const longName = good.slice();
  longName[4] += 1;
  assert.equal(reason(parseClientHello(modernHello([ext(EXT.serverName, longName)]))), 'bad_sni_list');
});

// ---- structure ----

test('each structural defect gets its own reason', () => {
  const base = handshake({ extensions: [sniExt('a.example')] });
  const cases: [string, Uint8Array, HelloRejection][] = [
    ['an alert record', Uint8Array.of(21, 3, 3, 0, 2, 2, 40), 'not_handshake'],
    ['an HTTP request', new TextEncoder().encode('GET / HTTP/1.1\r\n\r\n'), 'not_handshake'],
    ['record major version 2', concat(Uint8Array.of(22, 2, 0), u16(base.length), base), 'bad_record_version'],
    ['a zero-length record', Uint8Array.of(22, 3, 1, 0, 0), 'bad_record_length'],
    ['a record over 2^14', concat(Uint8Array.of(22, 3, 1), u16(16385), new Uint8Array(16385)), 'bad_record_length'],
    ['a ServerHello', records(concat(u8(2), base.subarray(1))), 'not_client_hello'],
    ['a hello cut short', records(base).subarray(0, 60), 'truncated'],
    ['an alert between fragments', concat(records(base.subarray(0, 10)), Uint8Array.of(21, 3, 3, 0, 2, 2, 40)), 'interleaved_record'],
    ['legacy_version 0x0203', records(handshake({ legacyVersion: 0x0203 })), 'bad_version'],
    ['a 33-byte session id', records(handshake({ sessionId: new Uint8Array(33) })), 'bad_session_id'],
    ['no cipher suites', records(handshake({ cipherSuites: [] })), 'bad_cipher_suites'],
    ['no compression methods', records(handshake({ compression: [] })), 'bad_compression'],
    ['a duplicated extension', records(handshake({ extensions: [alpnExt(['h2']), alpnExt(['h2'])] })), 'duplicate_extension'],
    ['a one-byte ALPN list', records(handshake({ extensions: [ext(EXT.alpn, concat(u16(1), u8(0)))] })), 'bad_alpn'],
    ['an empty ALPN name', records(handshake({ extensions: [ext(EXT.alpn, concat(u16(2), u8(0), u8(0x68)))] })), 'bad_alpn'],
    ['odd supported_versions', records(handshake({ extensions: [ext(EXT.supportedVersions, vec8(Uint8Array.of(3, 4, 3)))] })), 'bad_supported_versions'],
    ['empty supported_versions', records(handshake({ extensions: [versionsExt([])] })), 'bad_supported_versions'],
  ];
  for (const [what, bytes, want] of cases) assert.equal(reason(parseClientHello(bytes)), want, what);
});

test('length fields that disagree with their containers are bad_length or bad_extensions', () => {
  const msg = handshake({ extensions: [sniExt('a.example'), alpnExt(['h2'])] });
  // extensions block length one short: a trailing byte nothing accounts for (RFC 5246 §7.4.1.2).
  const extLenAt = 4 + 2 + 32 + 1 + 32 + 2 + 6 + 2;
  const short = msg.slice();
  short[extLenAt + 1] -= 1;
  assert.equal(reason(parseClientHelloMessage(short)), 'bad_length');
  // one extension claiming more than the block holds.
  const over = msg.slice();
  over[extLenAt + 2 + 3] += 50;
  assert.equal(reason(parseClientHelloMessage(over)), 'bad_extensions');
  // a session id length running past the message.
  const sid = handshake({ sessionId: new Uint8Array(0) });
  assert.equal(reason(parseClientHelloMessage(sid.subarray(0, 4 + 35).map((b, i) => (i === 3 ? 35 : b)))), 'bad_length');
  // a handshake length beyond the bytes given.
  const cut = msg.slice(0, msg.length - 1);
  assert.equal(reason(parseClientHelloMessage(cut)), 'truncated');
});

test('framing reports how many bytes a partial hello still needs', () => {
  const bytes = readFixture('large-hello-post-quantum-key-share.hex');
  const f = frameClientHello(bytes, 0, 1000);
  assert.equal(f.status, 'incomplete');
  assert.ok(f.status === 'incomplete' && f.needed === bytes.length, JSON.stringify(f));
  const whole = frameClientHello(bytes, 0, bytes.length);
  assert.deepEqual(whole, { status: 'complete', end: bytes.length, sslv2: false });
});

test('every rejection reason is a distinct string in the exported union', () => {
  assert.equal(new Set(HELLO_REJECTIONS).size, HELLO_REJECTIONS.length);
  for (const r of HELLO_REJECTIONS) assert.match(r, /^[a-z0-9_]+$/);
});

test('ECH, GREASE and the rest of a hello combine without interfering', () => {
  const h = hello(parseClientHello(modernHello([ext(GREASE_A, new Uint8Array(0)), sniExt('Mixed.Example.COM'), echExt(16)])));
  assert.equal(h.serverName, 'mixed.example.com');
  assert.equal(h.ech, true);
  assert.equal(h.extensionTypes[0], EXT.serverName);
});

test('parsing a 512-byte hello takes microseconds', () => {
  const bytes = readFixture('curl-sni-and-alpn.hex');
  const rounds = 20000;
  for (let i = 0; i < 2000; i++) parseClientHello(bytes);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) parseClientHello(bytes);
  const perParseUs = Number(process.hrtime.bigint() - t0) / rounds / 1000;
  assert.ok(perParseUs < 20, `${perParseUs.toFixed(2)} µs per parse`);
});
