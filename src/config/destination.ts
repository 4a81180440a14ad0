// `connect_to` destinations of nomad_autostart rules: `ADDRESS:PORT`, where ADDRESS is an IPv4
// address or CIDR, an IPv6 address or CIDR in brackets, or `*` for any address.
import { isIP } from 'node:net';
import { cidrProblem } from './cidr';

export interface Destination {
  /** '' = any address; otherwise a CIDR (a single address becomes /32 or /128). */
  cidr: string;
  port: number;
}

export type ParsedDestination = { ok: true; value: Destination } | { ok: false; message: string };

export function parseDestination(text: string): ParsedDestination {
  const q = JSON.stringify(text);
  const bad = (why: string): ParsedDestination => ({ ok: false, message: `${q}: ${why}` });
  let host: string;
  let portText: string;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) return bad('an IPv6 address in brackets needs its closing "]", e.g. "[fd00::1]:80"');
    host = text.slice(1, close);
    if (text[close + 1] !== ':') return bad(`has no port; write "${text.slice(0, close + 1)}:PORT"`);
    portText = text.slice(close + 2);
  } else {
    const colon = text.lastIndexOf(':');
    if (colon < 0) {
      if (/^\d+$/.test(text)) return bad(`has no address; write "*:${text}" for any address`);
      return bad(`has no port; write "${text}:PORT"`);
    }
    host = text.slice(0, colon);
    if (host.includes(':')) return bad(`write IPv6 addresses in brackets, e.g. "[${host}]:${text.slice(colon + 1)}"`);
    portText = text.slice(colon + 1);
  }
  if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) return bad('the port must be a number from 1 to 65535');
  const port = Number(portText);
  if (host === '*') return { ok: true, value: { cidr: '', port } };
  if (host.includes('/')) {
    const why = cidrProblem(host);
    if (why) return bad(why);
    return { ok: true, value: { cidr: host, port } };
  }
  const family = isIP(host);
  if (family === 0) return bad(`${JSON.stringify(host)} is not an IP address, a CIDR or *; host names are not resolved`);
  return { ok: true, value: { cidr: `${host}/${family === 4 ? 32 : 128}`, port } };
}
