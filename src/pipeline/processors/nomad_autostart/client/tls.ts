// TLS options for undici from the settings: CA file beats CA directory, as go-rootcerts does
// (hashicorp/go-rootcerts LoadCACerts, used by nomad api/api.go ConfigureTLS); with neither,
// Node's default roots apply.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ConnectionOptions } from 'node:tls';
import { ConfigError } from '../../../../errors';
import type { NomadTlsSettings } from './settings';

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

function read(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new ConfigError([`${what}: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`]);
  }
}

/** Every PEM certificate in the files of a directory (recursively), like go-rootcerts LoadCAPath. */
function caDirectory(dir: string): string[] {
  const out: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    throw new ConfigError([`ca_path (NOMAD_CAPATH): cannot read ${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`]);
  }
  for (const name of names.sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...caDirectory(p));
    else out.push(...(readFileSync(p, 'utf8').match(PEM_CERT) ?? []));
  }
  if (out.length === 0) throw new ConfigError([`ca_path (NOMAD_CAPATH): no PEM certificates found in ${dir}`]);
  return out;
}

/** Connect options for an https address; files are read now, so a bad path fails at startup. */
export function tlsConnectOptions(tls: NomadTlsSettings): ConnectionOptions {
  const opts: ConnectionOptions = { rejectUnauthorized: !tls.skipVerify };
  if (tls.caCert !== undefined) opts.ca = read(tls.caCert, 'ca_cert (NOMAD_CACERT)');
  else if (tls.caPath !== undefined) opts.ca = caDirectory(tls.caPath);
  if (tls.clientCert !== undefined && tls.clientKey !== undefined) {
    opts.cert = read(tls.clientCert, 'client_cert (NOMAD_CLIENT_CERT)');
    opts.key = read(tls.clientKey, 'client_key (NOMAD_CLIENT_KEY)');
  }
  if (tls.serverName !== undefined) opts.servername = tls.serverName;
  return opts;
}
