// TLS ClientHello framing and parsing (RFC 8446 §4.1.2, §5.1; RFC 6066 §3; RFC 5246 App. E.2).
// Input is hostile: nothing here throws; every length is checked against its container, and a
// failure returns one reason from the closed union HELLO_REJECTIONS (telemetry enumerates it).
// Reads are index math over a Uint8Array; the only allocations are the result and its strings.

/** Why bytes were not accepted as a ClientHello. Stable strings: they become metric attribute values. */
export const HELLO_REJECTIONS = [
  /** The first record is not a handshake record (content type 22). */
  'not_handshake',
  /** A record's legacy_record_version major byte is not 3. */
  'bad_record_version',
  /** A record's length is 0 or above 2^14. */
  'bad_record_length',
  /** A non-handshake record arrived while the ClientHello was still incomplete. */
  'interleaved_record',
  /** The handshake message type is not client_hello (1). */
  'not_client_hello',
  /** The bytes end before the record or handshake message says it does. */
  'truncated',
  /** A length field overruns its container, or a container is not filled exactly. */
  'bad_length',
  /** legacy_version's major byte is not 3. */
  'bad_version',
  /** legacy_session_id longer than 32 bytes. */
  'bad_session_id',
  /** cipher_suites empty or of odd length. */
  'bad_cipher_suites',
  /** legacy_compression_methods empty. */
  'bad_compression',
  /** An extension overruns the extensions block. */
  'bad_extensions',
  /** The same extension type appears twice. */
  'duplicate_extension',
  /** server_name extension malformed, or two host_name entries. */
  'bad_sni_list',
  /** A host_name of zero length. */
  'empty_name',
  /** A host_name ending with '.'. */
  'trailing_dot',
  /** A host_name longer than 253 characters. */
  'name_too_long',
  /** A host_name label longer than 63 characters. */
  'label_too_long',
  /** A host_name with an empty label ("a..b", ".a"). */
  'empty_label',
  /** A host_name with a character outside letters, digits and hyphen, or a hyphen at a label's edge. */
  'bad_characters',
  /** A host_name that is a literal IPv4 address. */
  'ip_literal',
  /** application_layer_protocol_negotiation malformed. */
  'bad_alpn',
  /** supported_versions malformed. */
  'bad_supported_versions',
  /** An SSLv2-compatible ClientHello whose fields are inconsistent. */
  'bad_sslv2',
] as const;
export type HelloRejection = (typeof HELLO_REJECTIONS)[number];

export interface ClientHello {
  /** True for an SSLv2-compatible ClientHello (RFC 5246 App. E.2): it has no extensions, so no SNI. */
  sslv2: boolean;
  /** legacy_version (or the SSLv2 hello's version), e.g. 0x0303. */
  legacyVersion: number;
  /** supported_versions extension contents in client order, GREASE removed; empty when absent. */
  supportedVersions: number[];
  /** Number of cipher suites offered, GREASE removed. */
  cipherSuiteCount: number;
  /** ALPN protocol names in client order, GREASE removed; bytes outside printable ASCII as \xNN. */
  alpn: string[];
  /** The host_name from server_name, lower-cased; with `ech` it is the outer (public) name. */
  serverName: string | undefined;
  /** An encrypted_client_hello extension is present: the real name is encrypted. */
  ech: boolean;
  /** Extension types in the order sent, GREASE removed. */
  extensionTypes: number[];
}

export type HelloParseResult = { ok: true; hello: ClientHello } | { ok: false; reason: HelloRejection };

/** What the bytes from a stream offset show so far. `end` is the stream offset after the hello's last record. */
export type HelloFraming =
  { status: 'incomplete'; needed: number } | { status: 'complete'; end: number; sslv2: boolean } | { status: 'rejected'; reason: HelloRejection };

// ---- wire constants -------------------------------------------------------------------------

/** RFC 8446 §5.1 ContentType values. */
export const CONTENT_CHANGE_CIPHER_SPEC = 20;
export const CONTENT_HANDSHAKE = 22;
/** RFC 8446 §5.1: type(1) + legacy_record_version(2) + length(2). */
export const RECORD_HEADER_LEN = 5;
/** RFC 8446 §5.1 TLSPlaintext field offsets: legacy_record_version major byte, then the 2-byte length. */
const RECORD_VERSION_MAJOR_AT = 1;
const RECORD_LENGTH_AT = 3;
/** RFC 8446 §4 Handshake: the 3-byte length follows the 1-byte msg_type. */
const HANDSHAKE_LENGTH_AT = 1;
/** Length prefixes of opaque vectors: <..2^8-1> take 1 byte, <..2^16-1> take 2 (RFC 8446 §3.4). */
const VEC8_PREFIX = 1;
const VEC16_PREFIX = 2;
/** Extension type values are 16-bit: a stamp per possible type. */
const EXTENSION_TYPE_SPACE = 1 << 16;
/** RFC 8446 §5.1: "The length MUST NOT exceed 2^14 bytes." */
export const MAX_RECORD_FRAGMENT = 1 << 14;
/** All SSL 3.0 / TLS versions have major byte 3 (RFC 8446 §5.1 legacy_record_version, §4.1.2 legacy_version). */
const TLS_MAJOR = 3;
/** RFC 8446 §4: msg_type(1) + length(3). */
export const HANDSHAKE_HEADER_LEN = 4;
/** RFC 8446 §4 HandshakeType client_hello. */
export const HANDSHAKE_CLIENT_HELLO = 1;
/** RFC 8446 §4.1.2 Random is 32 bytes. */
const RANDOM_LEN = 32;
/** RFC 8446 §4.1.2 legacy_session_id<0..32>. */
const MAX_SESSION_ID = 32;
/** RFC 8446 §4.1.2 / RFC 5246 §7.4.1.2: a cipher suite is 2 bytes. */
const CIPHER_SUITE_LEN = 2;

/** RFC 5246 App. E.2: high bit of the first byte marks the 2-byte SSLv2 record header. */
const SSLV2_HEADER_BIT = 0x80;
const SSLV2_LENGTH_MASK = 0x7f;
/** RFC 5246 App. E.2: msg_length(2); then msg_type(1) … */
const SSLV2_HEADER_LEN = 2;
/** RFC 5246 App. E.2: msg_type(1) version(2) cipher_spec_length(2) session_id_length(2) challenge_length(2). */
const SSLV2_FIXED_LEN = 9;
const SSLV2_VERSION_AT = 1;
const SSLV2_CIPHER_SPEC_LENGTH_AT = 3;
const SSLV2_SESSION_ID_LENGTH_AT = 5;
const SSLV2_CHALLENGE_LENGTH_AT = 7;
/** RFC 5246 App. E.2: each V2CipherSpec is 3 bytes. */
const SSLV2_CIPHER_SPEC_LEN = 3;
/** RFC 5246 App. E.2: session_id_length "MUST have a value of either zero or 16". */
const SSLV2_SESSION_ID_LEN = 16;
/** RFC 5246 App. E.2 (via SSL 2.0): the challenge is 16 to 32 bytes. */
const SSLV2_MIN_CHALLENGE = 16;
const SSLV2_MAX_CHALLENGE = 32;

/** Extension types (IANA TLS ExtensionType registry). */
export const EXT_SERVER_NAME = 0; // RFC 6066 §3
export const EXT_ALPN = 16; // RFC 7301 §3.1
export const EXT_SUPPORTED_VERSIONS = 43; // RFC 8446 §4.2.1
export const EXT_ENCRYPTED_CLIENT_HELLO = 0xfe0d; // draft-ietf-tls-esni §5
/** RFC 8446 §4.2: extension_type(2) + extension_data length(2). */
const EXTENSION_HEADER_LEN = 4;
const EXTENSION_LENGTH_AT = 2;
/** RFC 6066 §3 NameType host_name. */
const NAME_TYPE_HOST_NAME = 0;
/** RFC 6066 §3: name_type(1) + HostName length(2). */
const SERVER_NAME_ENTRY_HEADER = 3;
const SERVER_NAME_LENGTH_AT = 1;
/** RFC 1035 §2.3.4: 255 octets on the wire, i.e. 253 characters in dotted text without the root. */
export const MAX_HOST_NAME = 253;
/** RFC 1035 §2.3.4: labels are 63 octets or less. */
export const MAX_LABEL = 63;
/** RFC 7301 §3.1: protocol_name_list<2..2^16-1>. */
const MIN_ALPN_LIST = 2;
/** At most this many ALPN names are kept (the wire allows thousands; telemetry needs a few). */
export const MAX_ALPN_REPORTED = 16;
/** RFC 8446 §4.2.1: ClientHello versions<2..254>, each 2 bytes. */
const MIN_VERSIONS_LIST = 2;
const VERSION_LEN = 2;
/** RFC 8701 §2: GREASE values are 0x?A?A with both bytes equal. */
const GREASE_MASK = 0x0f0f;
const GREASE_PATTERN = 0x0a0a;
/** RFC 8701 §2: GREASE ALPN identifiers are the two bytes {0x?A, 0x?A}. */
const GREASE_ALPN_LEN = 2;
const GREASE_BYTE_MASK = 0x0f;
const GREASE_BYTE_PATTERN = 0x0a;
/** A dotted quad has four labels (RFC 6066 §3 forbids literal addresses in HostName). */
const IPV4_LABELS = 4;

const CH_DOT = 0x2e;
const CH_HYPHEN = 0x2d;
const CH_0 = 0x30;
const CH_9 = 0x39;
const CH_A = 0x41;
const CH_Z = 0x5a;
const CH_a = 0x61;
const CH_z = 0x7a;
const PRINTABLE_MIN = 0x21;
const PRINTABLE_MAX = 0x7e;
/** Escaped itself so that an escaped name cannot be confused with a literal one. */
const CH_BACKSLASH = 0x5c;

/** RFC 8701 §2: is this 16-bit value (extension type, version, cipher suite, group) GREASE? */
export function isGrease(v: number): boolean {
  return (v & GREASE_MASK) === GREASE_PATTERN && v >> 8 === (v & 0xff);
}

// Every byte read below (b[i]!, m[p]!, u16, u24) comes after a check that it lies before the message's or buffer's
// end (the fuzz test in test/unit/receivers/sni drives that): the `!` claims only that and costs nothing at run time.
const rejected = (reason: HelloRejection): { ok: false; reason: HelloRejection } => ({ ok: false, reason });
const u16 = (b: Uint8Array, o: number): number => (b[o]! << 8) | b[o + 1]!;
const u24 = (b: Uint8Array, o: number): number => (b[o]! << 16) | (b[o + 1]! << 8) | b[o + 2]!;

// ---- framing --------------------------------------------------------------------------------

/**
 * Find the ClientHello that starts at `start` in buf[start, end): walks TLS records (RFC 8446 §5.1),
 * gathering handshake fragments until the handshake message length is reached. With
 * `skipChangeCipherSpec` leading 1-byte ChangeCipherSpec records are skipped (RFC 8446 App. D.4:
 * the middlebox-compatibility CCS a client sends before its second ClientHello).
 */
export function frameClientHello(buf: Uint8Array, start: number, end: number, skipChangeCipherSpec = false): HelloFraming {
  if (end > buf.length) end = buf.length;
  if (start >= end) return { status: 'incomplete', needed: start + 1 };
  // RFC 5246 App. E.2: an SSLv2-compatible hello starts with a 2-byte header whose high bit is set;
  // only ever as a connection's first message, so not where a retried hello is expected.
  if (buf[start]! & SSLV2_HEADER_BIT) {
    if (skipChangeCipherSpec) return { status: 'rejected', reason: 'not_handshake' };
    if (end - start < SSLV2_HEADER_LEN + 1) return { status: 'incomplete', needed: start + SSLV2_HEADER_LEN + 1 };
    // RFC 5246 App. E.2: msg_type "MUST be 1".
    if (buf[start + SSLV2_HEADER_LEN] !== HANDSHAKE_CLIENT_HELLO) return { status: 'rejected', reason: 'bad_sslv2' };
    const total = SSLV2_HEADER_LEN + (((buf[start]! & SSLV2_LENGTH_MASK) << 8) | buf[start + 1]!);
    if (end - start < total) return { status: 'incomplete', needed: start + total };
    return { status: 'complete', end: start + total, sslv2: true };
  }
  let p = start;
  let sawHandshake = false;
  let have = 0; // handshake bytes gathered so far
  let need = -1; // handshake message length incl. header, once its header is known
  let h1 = 0,
    h2 = 0; // handshake length bytes, possibly spread over records
  for (;;) {
    if (end - p < RECORD_HEADER_LEN) {
      const rest = need < 0 ? HANDSHAKE_HEADER_LEN - have : need - have;
      return { status: 'incomplete', needed: p + RECORD_HEADER_LEN + Math.max(rest, 1) };
    }
    const type = buf[p];
    const len = u16(buf, p + RECORD_LENGTH_AT);
    if (type === CONTENT_CHANGE_CIPHER_SPEC && skipChangeCipherSpec && !sawHandshake) {
      // RFC 8446 §5.1: a ChangeCipherSpec record still obeys the record length limits.
      if (len === 0 || len > MAX_RECORD_FRAGMENT) return { status: 'rejected', reason: 'bad_record_length' };
      p += RECORD_HEADER_LEN + len;
      continue;
    }
    // RFC 8446 §5.1: handshake messages MUST NOT be interleaved with other record types.
    if (type !== CONTENT_HANDSHAKE) return { status: 'rejected', reason: sawHandshake ? 'interleaved_record' : 'not_handshake' };
    // RFC 8446 §5.1: legacy_record_version is 0x0301 or 0x0303 (older stacks 0x0300..0x0302): major 3.
    if (buf[p + RECORD_VERSION_MAJOR_AT] !== TLS_MAJOR) return { status: 'rejected', reason: 'bad_record_version' };
    // RFC 8446 §5.1: length MUST NOT exceed 2^14, and zero-length handshake fragments MUST NOT be sent.
    if (len === 0 || len > MAX_RECORD_FRAGMENT) return { status: 'rejected', reason: 'bad_record_length' };
    sawHandshake = true;
    const fragStart = p + RECORD_HEADER_LEN;
    const fragEnd = fragStart + len;
    const availEnd = fragEnd < end ? fragEnd : end;
    let i = fragStart;
    for (; i < availEnd && have < HANDSHAKE_HEADER_LEN; i++, have++) {
      const byte = buf[i]!;
      // RFC 8446 §4: the first byte is msg_type; only client_hello is acceptable here.
      if (have === 0 && byte !== HANDSHAKE_CLIENT_HELLO) return { status: 'rejected', reason: 'not_client_hello' };
      if (have === 1) h1 = byte;
      else if (have === 2) h2 = byte;
      else if (have === 3) need = HANDSHAKE_HEADER_LEN + ((h1 << 16) | (h2 << 8) | byte);
    }
    have += availEnd - i; // the rest of this fragment is message body
    if (need >= 0 && have >= need) return { status: 'complete', end: fragEnd, sslv2: false };
    if (availEnd < fragEnd) {
      // Lower bound on the stream offset the hello reaches: within this record, or past its end plus a header.
      const rest = need < 0 ? HANDSHAKE_HEADER_LEN - have : need - have;
      const inRecord = fragEnd - availEnd;
      return { status: 'incomplete', needed: rest <= inRecord ? availEnd + rest : fragEnd + RECORD_HEADER_LEN + rest - inRecord };
    }
    p = fragEnd;
  }
}

/**
 * The handshake message bytes of a hello that frameClientHello reported complete (same arguments).
 * A message inside one record is returned as a view; one spread over records is copied once.
 */
export function handshakeMessage(buf: Uint8Array, start: number, end: number, skipChangeCipherSpec = false): Uint8Array | undefined {
  let p = start;
  // Skip leading ChangeCipherSpec records exactly as frameClientHello did.
  while (skipChangeCipherSpec && end - p >= RECORD_HEADER_LEN && buf[p] === CONTENT_CHANGE_CIPHER_SPEC) p += RECORD_HEADER_LEN + u16(buf, p + RECORD_LENGTH_AT);
  // Common case: the whole message sits in the first record, so a view suffices.
  if (end - p >= RECORD_HEADER_LEN + HANDSHAKE_HEADER_LEN) {
    const len = u16(buf, p + RECORD_LENGTH_AT);
    const need = HANDSHAKE_HEADER_LEN + u24(buf, p + RECORD_HEADER_LEN + HANDSHAKE_LENGTH_AT);
    if (need <= len && p + RECORD_HEADER_LEN + need <= end) return buf.subarray(p + RECORD_HEADER_LEN, p + RECORD_HEADER_LEN + need);
  }
  // General case: gather fragments into one buffer sized from the (possibly split) header.
  let out: Uint8Array | undefined;
  const head = new Uint8Array(HANDSHAKE_HEADER_LEN);
  let have = 0;
  while (end - p >= RECORD_HEADER_LEN) {
    const len = u16(buf, p + RECORD_LENGTH_AT);
    const fragStart = p + RECORD_HEADER_LEN;
    const fragEnd = Math.min(fragStart + len, end);
    for (let i = fragStart; i < fragEnd; i++) {
      if (have < HANDSHAKE_HEADER_LEN) {
        head[have++] = buf[i]!;
        if (have === HANDSHAKE_HEADER_LEN) {
          out = new Uint8Array(HANDSHAKE_HEADER_LEN + u24(head, HANDSHAKE_LENGTH_AT));
          out.set(head, 0);
        }
        continue;
      }
      if (!out) return undefined;
      const take = Math.min(fragEnd - i, out.length - have);
      out.set(buf.subarray(i, i + take), have);
      have += take;
      break;
    }
    if (out && have >= out.length) return out;
    p = fragStart + len;
  }
  return undefined;
}

// ---- parsing --------------------------------------------------------------------------------

/**
 * Parse the ClientHello at the start of a TCP stream prefix (records, or an SSLv2-compatible hello).
 * Bytes after the hello are ignored; missing bytes give 'truncated'.
 */
export function parseClientHello(stream: Uint8Array): HelloParseResult {
  const f = frameClientHello(stream, 0, stream.length);
  if (f.status === 'rejected') return rejected(f.reason);
  if (f.status === 'incomplete') return rejected('truncated');
  if (f.sslv2) return parseSslv2Hello(stream.subarray(0, f.end));
  const msg = handshakeMessage(stream, 0, stream.length);
  return msg ? parseClientHelloMessage(msg) : rejected('truncated');
}

/** Per-parse stamps for duplicate-extension detection without allocating: stamp[type] === generation. */
const extensionSeen = new Uint32Array(EXTENSION_TYPE_SPACE);
let generation = 0;

/** Parse one complete handshake message (header included) as a ClientHello (RFC 8446 §4.1.2). */
export function parseClientHelloMessage(m: Uint8Array): HelloParseResult {
  const n = m.length;
  if (n < HANDSHAKE_HEADER_LEN) return rejected('truncated');
  // RFC 8446 §4: msg_type client_hello.
  if (m[0] !== HANDSHAKE_CLIENT_HELLO) return rejected('not_client_hello');
  const bodyLen = u24(m, HANDSHAKE_LENGTH_AT);
  // RFC 8446 §4: the length field covers the rest of the message.
  if (HANDSHAKE_HEADER_LEN + bodyLen > n) return rejected('truncated');
  const end = HANDSHAKE_HEADER_LEN + bodyLen;
  let p = HANDSHAKE_HEADER_LEN;
  // RFC 8446 §4.1.2: legacy_version(2) random(32) must fit.
  if (end - p < VERSION_LEN + RANDOM_LEN + VEC8_PREFIX) return rejected('bad_length');
  const legacyVersion = u16(m, p);
  // RFC 8446 §4.1.2 legacy_version: 0x0303 for TLS 1.3; all SSL3/TLS versions have major 3.
  if (legacyVersion >> 8 !== TLS_MAJOR) return rejected('bad_version');
  p += VERSION_LEN + RANDOM_LEN;
  // RFC 8446 §4.1.2 legacy_session_id<0..32>.
  const sidLen = m[p++]!;
  if (sidLen > MAX_SESSION_ID) return rejected('bad_session_id');
  if (end - p < sidLen + VEC16_PREFIX) return rejected('bad_length');
  p += sidLen;
  // RFC 8446 §4.1.2 cipher_suites<2..2^16-2>: non-empty, whole 2-byte suites.
  const csLen = u16(m, p);
  p += VEC16_PREFIX;
  if (csLen === 0 || csLen % CIPHER_SUITE_LEN !== 0) return rejected('bad_cipher_suites');
  if (end - p < csLen + VEC8_PREFIX) return rejected('bad_length');
  let cipherSuiteCount = 0;
  for (let i = p; i < p + csLen; i += CIPHER_SUITE_LEN) if (!isGrease(u16(m, i))) cipherSuiteCount++;
  p += csLen;
  // RFC 8446 §4.1.2 legacy_compression_methods<1..2^8-1>.
  const cmLen = m[p++]!;
  if (cmLen === 0) return rejected('bad_compression');
  if (end - p < cmLen) return rejected('bad_length');
  p += cmLen;

  const hello: ClientHello = {
    sslv2: false,
    legacyVersion,
    supportedVersions: [],
    cipherSuiteCount,
    alpn: [],
    serverName: undefined,
    ech: false,
    extensionTypes: [],
  };
  // RFC 5246 §7.4.1.2: extensions may be absent in a (pre-1.3) ClientHello.
  if (p === end) return { ok: true, hello };
  // RFC 8446 §4.1.2 extensions<8..2^16-1>: a 2-byte length that exactly fills the message.
  if (end - p < VEC16_PREFIX) return rejected('bad_length');
  const extLen = u16(m, p);
  p += VEC16_PREFIX;
  // RFC 5246 §7.4.1.2: the message must match the format precisely (no trailing bytes).
  if (extLen !== end - p) return rejected('bad_length');
  if (++generation === 0xffffffff) {
    extensionSeen.fill(0);
    generation = 1;
  }
  while (p < end) {
    // RFC 8446 §4.2: extension_type(2) + opaque extension_data<0..2^16-1> within the block.
    if (end - p < EXTENSION_HEADER_LEN) return rejected('bad_extensions');
    const type = u16(m, p);
    const len = u16(m, p + EXTENSION_LENGTH_AT);
    const d = p + EXTENSION_HEADER_LEN;
    if (end - d < len) return rejected('bad_extensions');
    // RFC 8446 §4.2: "There MUST NOT be more than one extension of the same type in a given extension block."
    if (extensionSeen[type] === generation) return rejected('duplicate_extension');
    extensionSeen[type] = generation;
    if (!isGrease(type)) hello.extensionTypes.push(type);
    let bad: HelloRejection | undefined;
    switch (type) {
      case EXT_SERVER_NAME:
        bad = readServerName(m, d, d + len, hello);
        break;
      case EXT_ALPN:
        bad = readAlpn(m, d, d + len, hello);
        break;
      case EXT_SUPPORTED_VERSIONS:
        bad = readSupportedVersions(m, d, d + len, hello);
        break;
      case EXT_ENCRYPTED_CLIENT_HELLO:
        // draft-ietf-tls-esni §5: presence is what matters; the SNI seen is then the outer, public name.
        hello.ech = true;
        break;
      default:
        // RFC 8446 §4.2: unknown extensions are ignored.
        break;
    }
    if (bad) return rejected(bad);
    p = d + len;
  }
  return { ok: true, hello };
}

/** RFC 6066 §3 ServerNameList; keeps the host_name entry. Returns a rejection or undefined. */
function readServerName(m: Uint8Array, p: number, end: number, hello: ClientHello): HelloRejection | undefined {
  // RFC 6066 §3 server_name_list<1..2^16-1>, exactly filling extension_data.
  if (end - p < VEC16_PREFIX) return 'bad_sni_list';
  const listLen = u16(m, p);
  p += VEC16_PREFIX;
  if (listLen === 0 || listLen !== end - p) return 'bad_sni_list';
  let found = false;
  while (p < end) {
    // RFC 6066 §3: name_type(1) + opaque HostName<1..2^16-1>.
    if (end - p < SERVER_NAME_ENTRY_HEADER) return 'bad_sni_list';
    const nameType = m[p];
    const len = u16(m, p + SERVER_NAME_LENGTH_AT);
    p += SERVER_NAME_ENTRY_HEADER;
    if (end - p < len) return 'bad_sni_list';
    // Unknown name types are assumed to share HostName's framing and skipped (as Go's crypto/tls does).
    if (nameType === NAME_TYPE_HOST_NAME) {
      // RFC 6066 §3: "The ServerNameList MUST NOT contain more than one name of the same name_type."
      if (found) return 'bad_sni_list';
      found = true;
      const bad = checkHostName(m, p, p + len);
      if (bad) return bad;
      hello.serverName = asciiLower(m, p, p + len);
    }
    p += len;
  }
  return undefined;
}

/**
 * RFC 6066 §3 HostName: ASCII, no trailing dot, no literal IP; RFC 1035 §2.3.4 sizes;
 * RFC 5890 §2.3.1 LDH labels (letters, digits, hyphen; no hyphen first or last). A-labels (xn--) pass as is.
 */
export function checkHostName(b: Uint8Array, start: number, end: number): HelloRejection | undefined {
  const len = end - start;
  // RFC 6066 §3 HostName<1..2^16-1>.
  if (len <= 0) return 'empty_name';
  // RFC 6066 §3: "represented as a byte string using ASCII encoding without a trailing dot".
  if (b[end - 1] === CH_DOT) return 'trailing_dot';
  // RFC 1035 §2.3.4: names are 255 octets or less on the wire (253 in text).
  if (len > MAX_HOST_NAME) return 'name_too_long';
  let labelStart = start;
  let labels = 0;
  let allDigits = true;
  for (let i = start; i <= end; i++) {
    const c = i < end ? b[i]! : CH_DOT;
    if (c === CH_DOT) {
      const labelLen = i - labelStart;
      // RFC 1035 §2.3.1: labels are non-empty.
      if (labelLen === 0) return 'empty_label';
      // RFC 1035 §2.3.4: labels are 63 octets or less.
      if (labelLen > MAX_LABEL) return 'label_too_long';
      // RFC 5890 §2.3.1 (after RFC 1123 §2.1): LDH labels neither start nor end with a hyphen.
      if (b[labelStart] === CH_HYPHEN || b[i - 1] === CH_HYPHEN) return 'bad_characters';
      labels++;
      labelStart = i + 1;
      continue;
    }
    const digit = c >= CH_0 && c <= CH_9;
    if (!digit) allDigits = false;
    // RFC 5890 §2.3.1 LDH: letters, digits, hyphen.
    if (!digit && c !== CH_HYPHEN && !(c >= CH_a && c <= CH_z) && !(c >= CH_A && c <= CH_Z)) return 'bad_characters';
  }
  // RFC 6066 §3: "Literal IPv4 and IPv6 addresses are not permitted in HostName."
  if (allDigits && labels === IPV4_LABELS) return 'ip_literal';
  return undefined;
}

/** Lower-cased ASCII string of an already validated LDH name (one allocation, no per-byte strings). */
function asciiLower(b: Uint8Array, start: number, end: number): string {
  return String.fromCharCode.apply(null, b.subarray(start, end) as unknown as number[]).toLowerCase();
}

/** Protocol names are opaque bytes (RFC 7301 §3.1): printable ASCII as is, anything else as \xNN. */
function protocolName(b: Uint8Array, start: number, end: number): string {
  let printable = true;
  for (let i = start; i < end; i++) if (b[i]! < PRINTABLE_MIN || b[i]! > PRINTABLE_MAX || b[i] === CH_BACKSLASH) printable = false;
  if (printable) return String.fromCharCode.apply(null, b.subarray(start, end) as unknown as number[]);
  let s = '';
  for (let i = start; i < end; i++) {
    const c = b[i]!;
    s += c >= PRINTABLE_MIN && c <= PRINTABLE_MAX && c !== CH_BACKSLASH ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`;
  }
  return s;
}

/** RFC 7301 §3.1 ProtocolNameList, GREASE identifiers (RFC 8701 §2) skipped. */
function readAlpn(m: Uint8Array, p: number, end: number, hello: ClientHello): HelloRejection | undefined {
  // RFC 7301 §3.1 protocol_name_list<2..2^16-1>, exactly filling extension_data.
  if (end - p < VEC16_PREFIX) return 'bad_alpn';
  const listLen = u16(m, p);
  p += VEC16_PREFIX;
  if (listLen < MIN_ALPN_LIST || listLen !== end - p) return 'bad_alpn';
  while (p < end) {
    // RFC 7301 §3.1 ProtocolName<1..2^8-1>.
    const len = m[p++]!;
    if (len === 0 || end - p < len) return 'bad_alpn';
    // RFC 8701 §2: GREASE ALPN identifiers are {0x?A, 0x?A}.
    const grease = len === GREASE_ALPN_LEN && m[p] === m[p + 1] && (m[p]! & GREASE_BYTE_MASK) === GREASE_BYTE_PATTERN;
    if (!grease && hello.alpn.length < MAX_ALPN_REPORTED) hello.alpn.push(protocolName(m, p, p + len));
    p += len;
  }
  return undefined;
}

/** RFC 8446 §4.2.1 ClientHello supported_versions, GREASE (RFC 8701 §2) skipped. */
function readSupportedVersions(m: Uint8Array, p: number, end: number, hello: ClientHello): HelloRejection | undefined {
  // RFC 8446 §4.2.1 versions<2..254>: 1-byte length, whole 2-byte versions, exactly filling extension_data.
  if (end - p < VEC8_PREFIX) return 'bad_supported_versions';
  const len = m[p++]!;
  if (len < MIN_VERSIONS_LIST || len % VERSION_LEN !== 0 || len !== end - p) return 'bad_supported_versions';
  for (; p < end; p += VERSION_LEN) {
    const v = u16(m, p);
    if (!isGrease(v)) hello.supportedVersions.push(v);
  }
  return undefined;
}

/** RFC 5246 App. E.2 SSLv2-compatible CLIENT-HELLO (header included). Has no extensions, hence no SNI. */
export function parseSslv2Hello(b: Uint8Array): HelloParseResult {
  const n = b.length;
  if (n < SSLV2_HEADER_LEN + SSLV2_FIXED_LEN) return rejected('truncated');
  // RFC 5246 App. E.2: "The highest bit MUST be 1; the remaining bits contain the length".
  if (!(b[0]! & SSLV2_HEADER_BIT)) return rejected('bad_sslv2');
  const msgLen = ((b[0]! & SSLV2_LENGTH_MASK) << 8) | b[1]!;
  if (SSLV2_HEADER_LEN + msgLen > n) return rejected('truncated');
  let p = SSLV2_HEADER_LEN;
  // RFC 5246 App. E.2: msg_type "MUST be 1".
  if (b[p] !== HANDSHAKE_CLIENT_HELLO) return rejected('bad_sslv2');
  const version = u16(b, p + SSLV2_VERSION_AT);
  const csLen = u16(b, p + SSLV2_CIPHER_SPEC_LENGTH_AT);
  const sidLen = u16(b, p + SSLV2_SESSION_ID_LENGTH_AT);
  const chLen = u16(b, p + SSLV2_CHALLENGE_LENGTH_AT);
  p += SSLV2_FIXED_LEN;
  // RFC 5246 App. E.2: cipher_specs are 3-byte V2CipherSpecs, at least one.
  if (csLen === 0 || csLen % SSLV2_CIPHER_SPEC_LEN !== 0) return rejected('bad_sslv2');
  // RFC 5246 App. E.2: session_id_length "MUST have a value of either zero or 16".
  if (sidLen !== 0 && sidLen !== SSLV2_SESSION_ID_LEN) return rejected('bad_sslv2');
  // RFC 5246 App. E.2: challenge of 16 to 32 bytes.
  if (chLen < SSLV2_MIN_CHALLENGE || chLen > SSLV2_MAX_CHALLENGE) return rejected('bad_sslv2');
  // RFC 5246 App. E.2: msg_length covers exactly the fixed fields and the three vectors.
  if (SSLV2_FIXED_LEN + csLen + sidLen + chLen !== msgLen) return rejected('bad_length');
  let cipherSuiteCount = 0;
  for (let i = p; i < p + csLen; i += SSLV2_CIPHER_SPEC_LEN) {
    // RFC 5246 App. E.2: a TLS suite is sent as {0x00, suite}; GREASE suites skipped as elsewhere.
    if (!(b[i] === 0 && isGrease(u16(b, i + 1)))) cipherSuiteCount++; // {0x00, suite}: suite is bytes 1..2
  }
  return {
    ok: true,
    hello: {
      sslv2: true,
      legacyVersion: version,
      supportedVersions: [],
      cipherSuiteCount,
      alpn: [],
      serverName: undefined,
      ech: false,
      extensionTypes: [],
    },
  };
}
