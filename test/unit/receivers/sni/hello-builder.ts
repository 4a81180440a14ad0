// Hand-built ClientHellos for the cases real clients do not send (GREASE everywhere, ECH, SSLv2,
// bad names, huge key shares). Deterministic bytes, so the fixtures they make are reproducible.

export const EXT = {
  serverName: 0,
  supportedGroups: 10,
  signatureAlgorithms: 13,
  alpn: 16,
  padding: 21,
  supportedVersions: 43,
  pskKeyExchangeModes: 45,
  keyShare: 51,
  ech: 0xfe0d,
} as const;

export const TLS12 = 0x0303;
export const TLS13 = 0x0304;
export const GREASE_A = 0x0a0a;
export const GREASE_B = 0x7a7a;
export const X25519 = 0x001d;
/** X25519MLKEM768 hybrid group: its client share is 1184 + 32 bytes. */
export const X25519MLKEM768 = 0x11ec;
export const X25519MLKEM768_SHARE_LEN = 1216;

const enc = new TextEncoder();

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export const u8 = (v: number): Uint8Array => Uint8Array.of(v & 0xff);
export const u16 = (v: number): Uint8Array => Uint8Array.of((v >> 8) & 0xff, v & 0xff);
export const u24 = (v: number): Uint8Array => Uint8Array.of((v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff);
/** opaque<..2^8-1> and opaque<..2^16-1> vectors. */
export const vec8 = (b: Uint8Array): Uint8Array => concat(u8(b.length), b);
export const vec16 = (b: Uint8Array): Uint8Array => concat(u16(b.length), b);
/** Deterministic filler bytes (not all zero, so a misplaced offset shows). */
export const filler = (n: number, seed = 1): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed * 17) & 0xff);

export type Extension = [type: number, data: Uint8Array];

export function ext(type: number, data: Uint8Array): Extension {
  return [type, data];
}

/** RFC 6066 §3 server_name with one host_name entry, name given as text or raw bytes. */
export function sniExt(name: string | Uint8Array): Extension {
  const bytes = typeof name === 'string' ? enc.encode(name) : name;
  return [EXT.serverName, vec16(concat(u8(0), vec16(bytes)))];
}

/** RFC 7301 §3.1 ALPN list. */
export function alpnExt(protocols: (string | Uint8Array)[]): Extension {
  return [EXT.alpn, vec16(concat(...protocols.map((p) => vec8(typeof p === 'string' ? enc.encode(p) : p))))];
}

/** RFC 8446 §4.2.1 supported_versions (ClientHello form). */
export function versionsExt(versions: number[]): Extension {
  return [EXT.supportedVersions, vec8(concat(...versions.map(u16)))];
}

/** RFC 8446 §4.2.8 key_share with the given (group, share length) entries. */
export function keyShareExt(shares: [group: number, length: number][]): Extension {
  return [EXT.keyShare, vec16(concat(...shares.map(([g, n]) => concat(u16(g), vec16(filler(n, g & 0xff))))))];
}

/** draft-ietf-tls-esni §5 ECHClientHello, outer: type 0, HPKE KDF/AEAD, config id, enc (32), payload. */
export function echExt(payloadLen = 208): Extension {
  return [EXT.ech, concat(u8(0), u16(0x0001), u16(0x0001), u8(0x42), vec16(filler(32, 3)), vec16(filler(payloadLen, 4)))];
}

export interface HelloSpec {
  legacyVersion?: number;
  sessionId?: Uint8Array;
  cipherSuites?: number[];
  compression?: number[];
  /** Undefined: no extensions block at all (a pre-TLS 1.3 hello may omit it). */
  extensions?: Extension[];
}

/** A ClientHello handshake message (RFC 8446 §4.1.2), header included. */
export function handshake(spec: HelloSpec): Uint8Array {
  const body = concat(
    u16(spec.legacyVersion ?? TLS12),
    filler(32, 9),
    vec8(spec.sessionId ?? filler(32, 5)),
    vec16(concat(...(spec.cipherSuites ?? [0x1301, 0x1302, 0xc02f]).map(u16))),
    vec8(Uint8Array.from(spec.compression ?? [0])),
    spec.extensions ? vec16(concat(...spec.extensions.map(([t, d]) => concat(u16(t), vec16(d))))) : new Uint8Array(0),
  );
  return concat(u8(1), u24(body.length), body);
}

/** Wrap a handshake message in TLS records (RFC 8446 §5.1), cut at the given fragment sizes (rest in one). */
export function records(msg: Uint8Array, fragmentSizes: number[] = [], recordVersion = 0x0301): Uint8Array {
  const parts: Uint8Array[] = [];
  let o = 0;
  for (const n of fragmentSizes) {
    if (o >= msg.length) break;
    const frag = msg.subarray(o, Math.min(o + n, msg.length));
    parts.push(concat(u8(22), u16(recordVersion), u16(frag.length), frag));
    o += frag.length;
  }
  while (o < msg.length) {
    const frag = msg.subarray(o, Math.min(o + 16384, msg.length));
    parts.push(concat(u8(22), u16(recordVersion), u16(frag.length), frag));
    o += frag.length;
  }
  return concat(...parts);
}

/** A typical modern hello around the given extensions (records included). */
export function modernHello(extra: Extension[], opts: { versions?: number[] } = {}): Uint8Array {
  return records(
    handshake({
      extensions: [
        ...extra,
        [EXT.supportedGroups, vec16(concat(u16(X25519), u16(0x0017)))],
        [EXT.signatureAlgorithms, vec16(concat(u16(0x0403), u16(0x0804)))],
        versionsExt(opts.versions ?? [TLS13, TLS12]),
        [EXT.pskKeyExchangeModes, vec8(u8(1))],
        keyShareExt([[X25519, 32]]),
      ],
    }),
  );
}

/** RFC 5246 App. E.2 SSLv2-compatible CLIENT-HELLO. */
export function sslv2Hello(opts: { version?: number; cipherSpecs?: number[]; sessionIdLen?: number; challengeLen?: number } = {}): Uint8Array {
  const specs = opts.cipherSpecs ?? [0x00002f, 0x000035, 0x00000a, 0x010080];
  const sid = filler(opts.sessionIdLen ?? 0, 6);
  const challenge = filler(opts.challengeLen ?? 32, 7);
  const body = concat(
    u8(1),
    u16(opts.version ?? TLS12),
    u16(specs.length * 3),
    u16(sid.length),
    u16(challenge.length),
    ...specs.map((s) => Uint8Array.of((s >> 16) & 0xff, (s >> 8) & 0xff, s & 0xff)),
    sid,
    challenge,
  );
  return concat(u16(0x8000 | body.length), body);
}

/** A 1-byte ChangeCipherSpec record (RFC 8446 App. D.4 middlebox compatibility). */
export const CHANGE_CIPHER_SPEC = Uint8Array.of(20, 3, 3, 0, 1, 1);
