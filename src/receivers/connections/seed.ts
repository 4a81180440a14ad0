// Connections that already exist when the agent starts, read from /proc so "currently open" is
// right from the first export: one pid per network namespace gives that namespace's
// /proc/<pid>/net/{tcp,tcp6,udp,udp6}; /proc/<pid>/fd maps socket inodes to their owners.
import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import type { ConnEvent, TcpState, Transport } from './event';
import { TCP_STATES } from './event';

export interface SocketOwner {
  pid: number;
  cgroupId: number;
}

export interface ExistingSocket {
  inode: number;
  netns: number;
  transport: Transport;
  networkType: 'ipv4' | 'ipv6';
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
  state: TcpState;
}

/** /proc/net/tcp prints each 32-bit word of an address in host byte order (little-endian here). */
export function parseProcAddress(hex: string): { address: string; port: number } {
  const parts = hex.split(':');
  const a = parts[0]!; // split always gives a first part
  const port = parseInt(parts[1] ?? '', 16); // NaN without one, as before
  const bytes: number[] = [];
  for (let w = 0; w < a.length; w += 8) {
    const word = a.slice(w, w + 8);
    for (let i = 6; i >= 0; i -= 2) bytes.push(parseInt(word.slice(i, i + 2), 16));
  }
  if (bytes.length === 4) return { address: bytes.join('.'), port };
  const groups: string[] = [];
  // Not IPv4, so the 32 hex digits of IPv6: 16 bytes.
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  return { address: compressV6(groups), port };
}

function compressV6(g: string[]): string {
  if (g.slice(0, 5).every((x) => x === '0') && g[5] === 'ffff') {
    const n = (i: number) => parseInt(g[i]!, 16); // g holds the 8 groups
    return `::ffff:${n(6) >> 8}.${n(6) & 255}.${n(7) >> 8}.${n(7) & 255}`;
  }
  let best = -1,
    bestLen = 0;
  for (let i = 0; i < 8;) {
    if (g[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === '0') j++;
    if (j - i > bestLen && j - i >= 2) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (best < 0) return g.join(':');
  return `${g.slice(0, best).join(':')}::${g.slice(best + bestLen).join(':')}`;
}

const TCP_TIME_WAIT = 6;
/** Columns of /proc/net/{tcp,udp}[6] (tcp4_seq_show): sl local remote st … uid timeout inode. */
const COL_LOCAL = 1;
const COL_REMOTE = 2;
const COL_STATE = 3;
const COL_INODE = 9;
/** "0100007F:1F90": an IPv4 address and port take 13 characters; an IPv6 one takes more. */
const IPV4_ADDR_PORT_LEN = 13;
const UDP_ESTABLISHED = 1; // a connected UDP socket

/** Parse one /proc/net/{tcp,tcp6,udp,udp6} table. TIME_WAIT entries are skipped: already closed. */
export function parseProcNetTable(text: string, transport: Transport, netns: number): ExistingSocket[] {
  const out: ExistingSocket[] = [];
  const lines = text.split('\n');
  for (let i = 1; i < lines.length; i++) {
    const f = lines[i]!.trim().split(/\s+/); // i < length
    if (f.length <= COL_INODE) continue; // COL_INODE is the last column read: every f[COL_*] below exists
    const st = parseInt(f[COL_STATE]!, 16);
    const inode = Number(f[COL_INODE]);
    if (!inode || st === TCP_TIME_WAIT) continue;
    if (transport === 'udp' && st !== UDP_ESTABLISHED) continue;
    const local = f[COL_LOCAL]!;
    const l = parseProcAddress(local);
    const r = parseProcAddress(f[COL_REMOTE]!);
    out.push({
      inode,
      netns,
      transport,
      networkType: local.length > IPV4_ADDR_PORT_LEN ? 'ipv6' : 'ipv4',
      localAddress: l.address,
      localPort: l.port,
      remoteAddress: r.address,
      remotePort: r.port,
      state: transport === 'tcp' ? (TCP_STATES[st] ?? 'unknown') : 'established',
    });
  }
  return out;
}

function numericDirs(dir: string): number[] {
  try {
    return readdirSync(dir)
      .filter((d) => /^\d+$/.test(d))
      .map(Number);
  } catch {
    return [];
  }
}

function tryRead(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Scan /proc: every socket of every network namespace, and the owner of each socket inode. */
export function scanExisting(cgroupRoot: string): { sockets: ExistingSocket[]; owners: Map<number, SocketOwner> } {
  const owners = new Map<number, SocketOwner>();
  const nsPid = new Map<number, number>();
  for (const pid of numericDirs('/proc')) {
    let netns: number;
    try {
      netns = statSync(`/proc/${pid}/ns/net`).ino;
    } catch {
      continue; // exited, or a kernel thread
    }
    if (!nsPid.has(netns)) nsPid.set(netns, pid);
    let fds: number[];
    try {
      fds = numericDirs(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    let owner: SocketOwner | undefined;
    for (const fd of fds) {
      let target: string;
      try {
        target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      if (!target.startsWith('socket:[')) continue;
      const inode = Number(target.slice(8, -1));
      if (owners.has(inode)) continue; // first (lowest) pid wins, like ss -p lists the first
      owner ??= ownerOf(pid, cgroupRoot);
      owners.set(inode, owner);
    }
  }
  const sockets: ExistingSocket[] = [];
  for (const [netns, pid] of nsPid) {
    for (const [file, transport] of [
      ['tcp', 'tcp'],
      ['tcp6', 'tcp'],
      ['udp', 'udp'],
      ['udp6', 'udp'],
    ] as const) {
      const text = tryRead(`/proc/${pid}/net/${file}`);
      if (text) sockets.push(...parseProcNetTable(text, transport, netns));
    }
  }
  return { sockets, owners };
}

function ownerOf(pid: number, cgroupRoot: string): SocketOwner {
  let cgroupId = 0;
  const line = (tryRead(`/proc/${pid}/cgroup`) ?? '').split('\n').find((l) => l.startsWith('0::'));
  if (line) {
    try {
      cgroupId = statSync(cgroupRoot + line.slice(3)).ino;
    } catch {
      /* cgroup gone */
    }
  }
  return { pid, cgroupId };
}

/** Sockets seeded at start are reported under a key no kernel address can take (high bit clear). */
export function seedAlias(netns: number, inode: number): bigint {
  return (BigInt(netns) << 32n) | BigInt(inode >>> 0);
}

/** Existing sockets as `existing` events; direction from whether the local port is listening. */
export function existingEvents(sockets: ExistingSocket[], owners: Map<number, SocketOwner>, bootNs: number): ConnEvent[] {
  const listening = new Set(sockets.filter((s) => s.state === 'listen').map((s) => `${s.netns}/${s.localPort}`));
  return sockets.map((s) => {
    const o = owners.get(s.inode);
    const inbound = s.state !== 'listen' && s.transport === 'tcp' && listening.has(`${s.netns}/${s.localPort}`);
    return {
      kind: 'existing',
      bootNs,
      sock: seedAlias(s.netns, s.inode),
      pid: o?.pid ?? 0,
      tid: o?.pid ?? 0,
      exe: '', // the process is alive: enrichment reads /proc/<pid>/exe
      cgroupId: o?.cgroupId ?? 0,
      netns: s.netns,
      transport: s.transport,
      networkType: s.networkType,
      direction: s.state === 'listen' ? 'unknown' : inbound ? 'inbound' : 'outbound',
      localAddress: s.localAddress,
      localPort: s.localPort,
      remoteAddress: s.remoteAddress,
      remotePort: s.remotePort,
      oldState: s.state,
      newState: s.state,
      bytesSent: 0,
      bytesReceived: 0,
      srttUs: 0,
      retransmits: 0,
      durationNs: 0,
      error: 0,
      counts: undefined,
    };
  });
}
