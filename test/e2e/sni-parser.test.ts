// The sni TC program's packet parser on the real kernel (BPF_PROG_TEST_RUN), with frames no
// interface here produces: VLAN and QinQ tags, IPv6 extension-header chains, fragments, and
// thousands of truncated and mutated frames — which never change the packet's fate or yield a bad record.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { KernelError } from '../../src/errors';
import { BpfObject } from '../../src/kernel/object';
import { updateElem } from '../../src/kernel/maps';
import { RingBufferReader } from '../../src/kernel/ringbuf';
import { testRunPacket } from '../../src/kernel/test-run';
import { bpfObjectPath } from '../../src/kernel/object-path';
import { SniDecoder, type SniRecord } from '../../src/receivers/sni/decoder';
import { parseClientHello } from '../../src/receivers/sni/client-hello';
import { prng } from '../unit/receivers/sni/fuzz-worker';
import { modernHello, sniExt } from '../unit/receivers/sni/hello-builder';

const PORT = 443;
const TC_ACT_UNSPEC = 0xffffffff; // -1 as the u32 retval
const SYN = 0x02,
  ACK = 0x10,
  PSH = 0x08;
const EINVAL = 22;

let obj: BpfObject;
let reader: RingBufferReader;
const decoder = new SniDecoder();
const records: SniRecord[] = [];

before(() => {
  obj = BpfObject.open(bpfObjectPath('sni'), { maxEntries: { events: 1 << 20 } });
  obj.load();
  const key = Buffer.alloc(2);
  key.writeUInt16LE(PORT);
  updateElem(obj.map('watched_ports').fd, key, Buffer.from([1]));
  reader = new RingBufferReader(obj.map('events'), {
    onBatch: (b) =>
      decoder.decodeBatch(b, (r) =>
        records.push(r.kind === 'segment' ? { kind: 'segment', segment: { ...r.segment, payload: r.segment.payload.slice() } } : r),
      ),
  });
});
after(() => {
  reader?.close();
  obj?.close();
});

/** Run sni_ingress on `frame`; return the records it wrote. */
function run(frame: Uint8Array): SniRecord[] {
  records.length = 0;
  assert.equal(testRunPacket(obj.programFd('sni_ingress'), frame), TC_ACT_UNSPEC, "the program never changes the packet's fate");
  reader.drain();
  return [...records];
}

const u16 = (n: number) => [(n >> 8) & 0xff, n & 0xff];
const u32 = (n: number) => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
const MACS = [2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2];

function tcp(sport: number, seq: number, flags: number, payload: number[] = []): number[] {
  return [...u16(sport), ...u16(PORT), ...u32(seq), ...u32(0), 0x50, flags, ...u16(65535), 0, 0, 0, 0, ...payload];
}
function ipv4(l4: number[], frag = 0): number[] {
  return [0x45, 0, ...u16(20 + l4.length), 0, 1, ...u16(frag), 64, 6, 0, 0, 10, 1, 0, 1, 10, 1, 0, 2, ...l4];
}
const V6_SRC = [0xfd, 0, 0, 0x77, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
const V6_DST = [0xfd, 0, 0, 0x77, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];
/** IPv6 with `exts`: [next header type, body] pairs, each padded to 8-octet units. */
function ipv6(l4: number[], exts: [number, number[]][] = []): number[] {
  let chain: number[] = l4;
  let next = 6;
  for (let i = exts.length - 1; i >= 0; i--) {
    const [type, body] = exts[i];
    const len = Math.ceil((body.length + 2) / 8) * 8;
    const hdr = [next, len / 8 - 1, ...body, ...new Array(len - 2 - body.length).fill(0)];
    chain = [...hdr, ...chain];
    next = type;
  }
  return [0x60, 0, 0, 0, ...u16(chain.length), next, 64, ...V6_SRC, ...V6_DST, ...chain];
}
function eth(type: number, l3: number[], tags: [number, number][] = []): Uint8Array {
  return Uint8Array.from([...MACS, ...tags.flatMap(([tpid, vid]) => [...u16(tpid), ...u16(vid)]), ...u16(type), ...l3]);
}

test('a SYN behind an 802.1Q tag starts a flow, and its payload segment is captured', () => {
  const syn = run(eth(0x0800, ipv4(tcp(40001, 1000, SYN)), [[0x8100, 7]]));
  assert.equal(syn.length, 1);
  assert.ok(syn[0].kind === 'syn');
  assert.deepEqual([syn[0].flow.srcAddress, syn[0].flow.srcPort, syn[0].flow.dstAddress, syn[0].flow.dstPort], ['10.1.0.1', 40001, '10.1.0.2', PORT]);
  const data = run(eth(0x0800, ipv4(tcp(40001, 1001, ACK | PSH, [0x16, 3, 1, 0, 5, 1, 2, 3, 4, 5])), [[0x8100, 7]]));
  assert.equal(data.length, 1);
  assert.ok(data[0].kind === 'segment');
  assert.deepEqual([data[0].segment.seq, data[0].segment.isn, [...data[0].segment.payload]], [1001, 1000, [0x16, 3, 1, 0, 5, 1, 2, 3, 4, 5]]);
});

test('QinQ (802.1ad outer, 802.1Q inner) in front of IPv6 with hop-by-hop, routing and destination options headers', () => {
  const frame = eth(
    0x86dd,
    ipv6(tcp(40002, 5000, SYN), [
      [0, [1, 0]],
      [43, [0, 0, 0, 0]],
      [60, [1, 4, 0, 0, 0, 0]],
    ]),
    [
      [0x88a8, 100],
      [0x8100, 200],
    ],
  );
  const r = run(frame);
  assert.equal(r.length, 1);
  assert.ok(r[0].kind === 'syn');
  assert.deepEqual([r[0].flow.family, r[0].flow.srcAddress, r[0].flow.dstAddress, r[0].flow.srcPort], [6, 'fd00:77::1', 'fd00:77::2', 40002]);
});

test('an SRv6 segment routing header (routing type 4, two segments) in front of a SYN and a ClientHello: parsed through to TCP, the hello captured whole', () => {
  const seg = (last: number) => [0xfd, 0, 0, 0x78, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, last];
  // RFC 8754 §2: routing type 4, segments left 1, last entry 1, flags 0, tag 0, then the segment list (final segment first).
  const srh: [number, number[]] = [43, [4, 1, 1, 0, 0, 0, ...seg(9), ...V6_DST]];
  const syn = run(eth(0x86dd, ipv6(tcp(40010, 7000, SYN), [srh])));
  assert.equal(syn.length, 1);
  assert.ok(syn[0].kind === 'syn');
  // The IPv6 destination of a packet with a routing header is its next segment.
  assert.deepEqual(
    [syn[0].flow.family, syn[0].flow.srcAddress, syn[0].flow.dstAddress, syn[0].flow.srcPort, syn[0].flow.dstPort],
    [6, 'fd00:77::1', 'fd00:77::2', 40010, PORT],
  );
  const hello = [...modernHello([sniExt('behind-srh.example')])];
  const data = run(eth(0x86dd, ipv6(tcp(40010, 7001, ACK | PSH, hello), [srh])));
  assert.equal(data.length, 1);
  assert.ok(data[0].kind === 'segment');
  assert.deepEqual([data[0].segment.seq, data[0].segment.isn], [7001, 7000]);
  assert.deepEqual([...data[0].segment.payload], hello);
  const parsed = parseClientHello(data[0].segment.payload);
  assert.ok(parsed.ok);
  assert.equal(parsed.hello.serverName, 'behind-srh.example');
});

test('fragments, non-TCP, unwatched ports and a third VLAN tag are passed by without a record', () => {
  assert.deepEqual(run(eth(0x0800, ipv4(tcp(40003, 1, SYN), 0x2000))), [], 'IPv4 first fragment (MF)');
  assert.deepEqual(run(eth(0x0800, ipv4(tcp(40003, 1, SYN), 0x0010))), [], 'IPv4 later fragment');
  assert.deepEqual(run(eth(0x86dd, ipv6(tcp(40004, 1, SYN), [[44, [0, 0, 0, 0, 0, 0]]]))), [], 'IPv6 fragment header');
  assert.deepEqual(
    run(
      eth(
        0x86dd,
        ipv6(
          tcp(40004, 1, SYN),
          Array.from({ length: 9 }, (): [number, number[]] => [60, []]),
        ),
      ),
    ),
    [],
    'more than 8 extension headers',
  );
  const udp = ipv4(tcp(40005, 1, SYN));
  udp[9] = 17;
  assert.deepEqual(run(eth(0x0800, udp)), [], 'UDP');
  const other = tcp(40006, 1, SYN);
  other[3] = 80;
  assert.deepEqual(run(eth(0x0800, ipv4(other))), [], 'port 80 is not watched');
  assert.deepEqual(
    run(
      eth(0x0800, ipv4(tcp(40007, 1, SYN)), [
        [0x8100, 1],
        [0x8100, 2],
        [0x8100, 3],
      ]),
    ),
    [],
    'three tags',
  );
  assert.deepEqual(run(eth(0x0806, new Array(28).fill(0))), [], 'ARP');
});

test('truncated and mutated frames (6000 of them) never crash, never change the verdict, never yield an undecodable record', () => {
  const rnd = prng(0x5e1);
  const int = (n: number) => Math.floor(rnd() * n);
  const bases = [
    eth(0x0800, ipv4(tcp(41000, 7, SYN))),
    eth(0x0800, ipv4(tcp(41000, 8, ACK, [0x16, 3, 1, 0, 1, 1])), [[0x8100, 9]]),
    eth(
      0x86dd,
      ipv6(tcp(41001, 9, SYN), [
        [0, []],
        [43, [0, 0, 0, 0, 0, 0]],
      ]),
    ),
  ];
  let ran = 0;
  for (let i = 0; i < 6000; i++) {
    const b = bases[i % bases.length];
    let f: Uint8Array;
    switch (int(3)) {
      case 0: // truncated anywhere after the Ethernet header
        f = b.slice(0, 14 + int(b.length - 13));
        break;
      case 1: {
        // a few random bytes changed
        f = b.slice();
        for (let k = 1 + int(6); k > 0; k--) f[14 + int(f.length - 14)] = int(256);
        break;
      }
      default: // random bytes behind a plausible EtherType
        f = Uint8Array.from([
          ...MACS,
          ...[
            [8, 0],
            [0x86, 0xdd],
            [0x81, 0],
          ][int(3)],
          ...Array.from({ length: int(200) }, () => int(256)),
        ]);
    }
    try {
      run(f);
      ran++;
    } catch (e) {
      // The kernel's test harness itself refuses an IP frame shorter than the IP header (EINVAL):
      // such a frame never reaches the program, here or on a real interface.
      if (!(e instanceof KernelError && e.errno === EINVAL && f.length < 14 + 40)) throw e;
    }
  }
  assert.ok(ran > 5000, `${ran} frames reached the program`);
  assert.equal(decoder.decodeErrors, 0);
});
