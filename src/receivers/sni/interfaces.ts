// Which interfaces the sni probe watches: a configured list, or `all` — every interface of the
// agent's network namespace that carries Ethernet framing (loopback and veth included).
import { readFileSync, readdirSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { InterfaceError } from '../../errors';

/** ARPHRD_* (include/uapi/linux/if_arp.h): the TC program parses an Ethernet header first. */
const ARPHRD_ETHER = 1;
const ARPHRD_LOOPBACK = 772;
const SYS_NET = '/sys/class/net';
/** IFF_UP (include/uapi/linux/if.h): the administrative up flag in /sys/class/net/<name>/flags. */
const IFF_UP = 0x1;

export interface NetInterface {
  name: string;
  ifindex: number;
}

function readNumber(path: string): number | undefined {
  try {
    return Number(readFileSync(path, 'utf8').trim());
  } catch {
    return undefined;
  }
}

/** Why the probe cannot watch `name`, or its ifindex. */
function inspect(name: string): { ifindex: number } | { problem: string } {
  const ifindex = readNumber(`${SYS_NET}/${name}/ifindex`);
  if (ifindex === undefined || !Number.isInteger(ifindex) || ifindex <= 0)
    return { problem: `there is no interface named ${name} in the agent's network namespace` };
  const type = readNumber(`${SYS_NET}/${name}/type`);
  if (type !== ARPHRD_ETHER && type !== ARPHRD_LOOPBACK) {
    return { problem: `interface ${name} has link type ${type} (not Ethernet or loopback); the TC program parses Ethernet frames only` };
  }
  return { ifindex };
}

/** The configured interfaces; every missing or unsuitable one is named in one InterfaceError. */
export function resolveInterfaces(names: readonly string[]): NetInterface[] {
  const out: NetInterface[] = [];
  const problems: string[] = [];
  for (const name of names) {
    const r = inspect(name);
    if ('problem' in r) problems.push(r.problem);
    else out.push({ name, ifindex: r.ifindex });
  }
  if (problems.length) throw new InterfaceError(`sni: ${problems.join('; ')}`, names.join(','));
  return out;
}

/** Down with no address: carries no traffic until someone sets it up (ifb, spare devices). */
function unused(name: string, withAddresses: ReadonlySet<string>): boolean {
  const flags = readNumber(`${SYS_NET}/${name}/flags`);
  return flags !== undefined && (flags & IFF_UP) === 0 && !withAddresses.has(name);
}

/**
 * Every Ethernet or loopback interface now; others (tun, wireguard, ip tunnels) and those that are
 * down with no address are skipped and returned (a rescan takes an interface once it is set up).
 */
export function allInterfaces(): { interfaces: NetInterface[]; skipped: string[] } {
  const interfaces: NetInterface[] = [];
  const skipped: string[] = [];
  const withAddresses = new Set(Object.keys(networkInterfaces()));
  let names: string[];
  try {
    names = readdirSync(SYS_NET);
  } catch {
    names = [];
  }
  for (const name of names.sort()) {
    const r = inspect(name);
    if ('problem' in r || unused(name, withAddresses)) skipped.push(name);
    else interfaces.push({ name, ifindex: r.ifindex });
  }
  return { interfaces, skipped };
}
