import assert from 'node:assert/strict';
import { BlockList, isIPv6 } from 'node:net';
import { test } from 'node:test';
import { compileCidrs } from '../../../src/pipeline/processors/filter/cidr';
import { parseIPv4, parseIPv6 } from '../../../src/pipeline/processors/filter/ip';

test('IPv4 parsing accepts dotted quads and rejects everything else', () => {
  assert.equal(parseIPv4('10.1.2.3'), 0x0a010203);
  assert.equal(parseIPv4('255.255.255.255'), 0xffffffff);
  for (const bad of ['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '1..2.3', '1.2.3.4 ', 'a.b.c.d', '::1']) assert.equal(parseIPv4(bad), -1, bad);
});

test('IPv6 parsing agrees with node:net on valid and invalid text', () => {
  const out = new Uint16Array(8);
  const cases = [
    '::',
    '::1',
    '1::',
    'fe80::1',
    '2001:db8::8:800:200c:417a',
    '1:2:3:4:5:6:7:8',
    '::ffff:10.1.2.3',
    '1:2:3:4:5:6:1.2.3.4',
    '1:2:3:4:5:6:7:8:9',
    '1::2::3',
    ':1',
    '1:',
    '12345::',
    '::g',
    '1:2:3:4:5:6:7',
    '::1.2.3',
    '1:2:3:4:5:6:7::',
  ];
  for (const c of cases) assert.equal(parseIPv6(c, out), isIPv6(c), c);
  assert.ok(parseIPv6('2001:db8::8:800:200c:417a', out));
  assert.deepEqual([...out], [0x2001, 0xdb8, 0, 0, 8, 0x800, 0x200c, 0x417a]);
  assert.equal(parseIPv6('fe80::1%eth0', out), false, 'zone ids are not accepted (the kernel reports none)');
  assert.ok(parseIPv6('::ffff:10.1.2.3', out));
  assert.deepEqual([...out], [0, 0, 0, 0, 0, 0xffff, 0x0a01, 0x0203]);
});

test('CIDR matching agrees with node:net BlockList for IPv4 and IPv6', () => {
  const cidrs = ['10.0.0.0/8', '192.168.1.0/24', '172.16.0.0/12', '0.0.0.0/32', '2001:db8::/32', 'fe80::/10', '::1/128', '2001:db8:1:2::/63'];
  const match = compileCidrs(cidrs);
  const reference = new BlockList();
  for (const c of cidrs) {
    const [a, len] = c.split('/');
    reference.addSubnet(a, Number(len), a.includes(':') ? 'ipv6' : 'ipv4');
  }
  const addresses = [
    '10.255.0.1',
    '11.0.0.1',
    '192.168.1.77',
    '192.168.2.1',
    '172.31.255.255',
    '172.32.0.0',
    '0.0.0.0',
    '0.0.0.1',
    '2001:db8::1',
    '2001:db9::1',
    'fe80::abcd',
    'febf::1',
    'fec0::1',
    '::1',
    '::2',
    '2001:db8:1:3::1',
    '2001:db8:1:4::1',
  ];
  for (const a of addresses) assert.equal(match(a), reference.check(a, a.includes(':') ? 'ipv6' : 'ipv4'), a);
});

test('an IPv4 CIDR matches the IPv4-mapped IPv6 form of its addresses', () => {
  const match = compileCidrs(['127.0.0.0/8']);
  assert.equal(match('::ffff:127.0.0.1'), true);
  assert.equal(match('::ffff:7f00:1'), true);
  assert.equal(match('::ffff:10.0.0.1'), false);
  assert.equal(match('::127.0.0.1'), false, 'IPv4-compatible (deprecated) is not mapped');
});

test('an IPv6 CIDR over ::ffff:0:0/96 matches plain IPv4 addresses it covers', () => {
  const match = compileCidrs(['::ffff:10.0.0.0/104']);
  assert.equal(match('10.9.9.9'), true);
  assert.equal(match('11.0.0.1'), false);
});

test('unparseable and empty addresses match nothing', () => {
  const match = compileCidrs(['0.0.0.0/0', '::/0']);
  assert.equal(match(''), false);
  assert.equal(match('not-an-ip'), false);
  assert.equal(match('1.2.3.4'), true);
});
