// CIDR lists compiled into one allocation-free predicate over an address string.
// IPv4 CIDRs also match IPv4-mapped IPv6 addresses (::ffff:10.0.0.1), and IPv6 CIDRs that
// cover ::ffff:0:0/96 also match plain IPv4 addresses, since dual-stack sockets report either.
import { isIP } from 'node:net';
import { InternalError } from '../../../errors';
import { parseIPv4, parseIPv6, v4Mapped } from './ip';

interface V6Net {
  groups: Uint16Array;
  prefix: number;
}

const scratch = new Uint16Array(8);

function v4Mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

function v6Match(addr: Uint16Array, net: V6Net): boolean {
  let bits = net.prefix;
  // addr and net.groups hold 8 groups each; k < 8.
  for (let k = 0; k < 8 && bits > 0; k++) {
    const take = bits >= 16 ? 16 : bits;
    const mask = (0xffff << (16 - take)) & 0xffff;
    if ((addr[k]! & mask) !== (net.groups[k]! & mask)) return false;
    bits -= take;
  }
  return true;
}

/** `cidrs` were validated by the config loader (src/config/cidr.ts). */
export function compileCidrs(cidrs: readonly string[]): (address: string) => boolean {
  const v4Nets: number[] = [];
  const v4Masks: number[] = [];
  const v6Nets: V6Net[] = [];
  for (const c of cidrs) {
    const [addr = '', len] = c.split('/'); // split always gives a first part
    const prefix = Number(len);
    if (isIP(addr) === 4) {
      const mask = v4Mask(prefix);
      v4Nets.push((parseIPv4(addr) & mask) >>> 0);
      v4Masks.push(mask);
    } else {
      const groups = new Uint16Array(8);
      if (!parseIPv6(addr, groups)) throw new InternalError(`not an IPv6 CIDR: ${c}`);
      v6Nets.push({ groups, prefix });
    }
  }
  const matchV4 = (v: number): boolean => {
    // v4Masks and v4Nets are pushed together: same length.
    for (let k = 0; k < v4Nets.length; k++) if ((v & v4Masks[k]!) >>> 0 === v4Nets[k]) return true;
    return false;
  };
  const matchV6 = (groups: Uint16Array): boolean => {
    for (let k = 0; k < v6Nets.length; k++) if (v6Match(groups, v6Nets[k]!)) return true; // k < length
    return false;
  };
  return (address) => {
    const v4 = parseIPv4(address);
    if (v4 >= 0) {
      if (matchV4(v4)) return true;
      if (v6Nets.length === 0) return false;
      scratch.fill(0, 0, 5);
      scratch[5] = 0xffff;
      scratch[6] = v4 >>> 16;
      scratch[7] = v4 & 0xffff;
      return matchV6(scratch);
    }
    if (!parseIPv6(address, scratch)) return false;
    if (matchV6(scratch)) return true;
    const mapped = v4Mapped(scratch);
    return mapped >= 0 && matchV4(mapped);
  };
}
