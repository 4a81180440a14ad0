// CIDR syntax check for filter rules (matching itself lives in src/pipeline/processors/filter/cidr.ts).
import { isIP } from 'node:net';

/** Why `text` is not a CIDR, or undefined when it is one. Host bits may be set (they are masked, as Go's net.ParseCIDR does). */
export function cidrProblem(text: string): string | undefined {
  const q = JSON.stringify(text);
  const slash = text.indexOf('/');
  if (slash < 0) {
    const family = isIP(text);
    if (family) return `${q} has no prefix length; write "${text}/${family === 4 ? 32 : 128}" for this one address`;
    return `${q} is not a CIDR such as "10.0.0.0/8" or "fd00::/8"`;
  }
  const addr = text.slice(0, slash);
  const len = text.slice(slash + 1);
  const family = isIP(addr);
  if (!family) return `${q}: ${JSON.stringify(addr)} is not an IPv4 or IPv6 address`;
  const max = family === 4 ? 32 : 128;
  if (!/^\d{1,3}$/.test(len) || Number(len) > max) return `${q}: the prefix length must be a number from 0 to ${max} for IPv${family}`;
  return undefined;
}
