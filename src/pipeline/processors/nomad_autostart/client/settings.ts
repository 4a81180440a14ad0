// Nomad connection settings, resolved the way Nomad's own CLI and Go client resolve them
// (hashicorp/nomad api/api.go DefaultConfig: NOMAD_ADDR (then NOMAD_UNIX_ADDR, the Task API socket
// Nomad sets in tasks with a workload identity; unix:// as api.go defaultUDSClient), NOMAD_REGION, NOMAD_NAMESPACE,
// NOMAD_HTTP_AUTH split once on ':', NOMAD_CACERT, NOMAD_CAPATH, NOMAD_CLIENT_CERT,
// NOMAD_CLIENT_KEY, NOMAD_TLS_SERVER_NAME, NOMAD_SKIP_VERIFY via strconv.ParseBool (ignored when
// unparsable), NOMAD_TOKEN; empty values count as unset), with agent.yaml values taking precedence.
// "Both client cert and client key must be provided" is api/api.go ConfigureTLS's text.
import { inspect } from 'node:util';
import { ConfigError } from '../../../../errors';

/** agent.yaml overrides; each key, when set and non-empty, beats the environment. */
export interface NomadSettingsOverrides {
  address?: string;
  token?: string;
  /** A file holding the token (workload identity); beats `token`, re-read on a 403. */
  tokenFile?: string;
  namespace?: string;
  region?: string;
  caCert?: string;
  caPath?: string;
  clientCert?: string;
  clientKey?: string;
  tlsServerName?: string;
  skipVerify?: boolean;
  /** "user:pass" (as NOMAD_HTTP_AUTH) or split. */
  httpAuth?: string | { username: string; password?: string };
  /** Per-request timeout in ms, on top of any blocking-query wait. */
  timeoutMs?: number;
}

export interface NomadTlsSettings {
  readonly caCert?: string;
  readonly caPath?: string;
  readonly clientCert?: string;
  readonly clientKey?: string;
  readonly serverName?: string;
  readonly skipVerify: boolean;
}

/**
 * Resolved settings. `token` and `httpAuth` are non-enumerable getters and every printable
 * form (inspect, toString, JSON) shows them redacted, so logging the object leaks nothing.
 */
export interface NomadSettings {
  /** http(s)://host:port[/path], or unix:///path for a Unix socket. */
  readonly address: string;
  /** Set for a unix:// address: the socket every request goes through. */
  readonly socketPath?: string;
  /** A file holding the token: read at start and again on a 403 (a rotated workload-identity token). */
  readonly tokenFile?: string;
  readonly namespace?: string;
  readonly region?: string;
  readonly tls: NomadTlsSettings;
  readonly timeoutMs: number;
  readonly token?: string;
  readonly httpAuth?: { readonly username: string; readonly password: string };
}

export const DEFAULT_NOMAD_ADDRESS = 'http://127.0.0.1:4646';
export const DEFAULT_NOMAD_TIMEOUT_MS = 10_000;
const REDACTED = '<redacted>';

const nonEmpty = (v: string | undefined): string | undefined => (v === undefined || v === '' ? undefined : v);

/** Go's strconv.ParseBool. */
function parseGoBool(s: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(s)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(s)) return false;
  return undefined;
}

function splitAuth(v: string): { username: string; password: string } {
  const i = v.indexOf(':');
  return i < 0 ? { username: v, password: '' } : { username: v.slice(0, i), password: v.slice(i + 1) };
}

/** Pure: the same overrides and environment always give the same settings. */
export function resolveNomadSettings(overrides: NomadSettingsOverrides = {}, env: NodeJS.ProcessEnv = {}): NomadSettings {
  const problems: string[] = [];
  const pick = (yaml: string | undefined, envName: string): string | undefined => nonEmpty(yaml) ?? nonEmpty(env[envName]);

  let address = pick(overrides.address, 'NOMAD_ADDR') ?? nonEmpty(env.NOMAD_UNIX_ADDR) ?? DEFAULT_NOMAD_ADDRESS;
  let socketPath: string | undefined;
  let httpAuth: { username: string; password: string } | undefined;
  if (typeof overrides.httpAuth === 'object') httpAuth = { username: overrides.httpAuth.username, password: overrides.httpAuth.password ?? '' };
  else {
    const raw = pick(overrides.httpAuth, 'NOMAD_HTTP_AUTH');
    if (raw !== undefined) httpAuth = splitAuth(raw);
  }

  let url: URL | undefined;
  try {
    url = new URL(address);
  } catch {
    problems.push(`address (NOMAD_ADDR): not a URL: ${JSON.stringify(address.replace(/\/\/[^@/]*@/, '//<redacted>@'))}`);
  }
  if (url?.protocol === 'unix:') {
    // As hashicorp/nomad api/api.go does for unix:// (defaultUDSClient; requests go to http://127.0.0.1).
    socketPath = decodeURIComponent(url.pathname);
    if (socketPath === '' || socketPath === '/')
      problems.push(`address (NOMAD_ADDR): a unix:// address needs the socket's path, such as unix:///secrets/api.sock`);
    address = `unix://${socketPath}`;
    url = undefined;
  }
  if (url) {
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      problems.push(`address (NOMAD_ADDR): scheme must be http or https, got ${url.protocol.replace(/:$/, '')}`);
    // Credentials in the URL become basic auth (unless given explicitly) and leave the address, so it can be logged.
    if (url.username !== '' || url.password !== '') {
      httpAuth ??= { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) };
      url.username = '';
      url.password = '';
    }
    address = url.origin + url.pathname.replace(/\/+$/, '');
  }

  let skipVerify = false;
  if (overrides.skipVerify !== undefined) skipVerify = overrides.skipVerify;
  else if (nonEmpty(env.NOMAD_SKIP_VERIFY) !== undefined) skipVerify = parseGoBool(env.NOMAD_SKIP_VERIFY!) ?? false;

  const tls: NomadTlsSettings = Object.freeze({
    caCert: pick(overrides.caCert, 'NOMAD_CACERT'),
    caPath: pick(overrides.caPath, 'NOMAD_CAPATH'),
    clientCert: pick(overrides.clientCert, 'NOMAD_CLIENT_CERT'),
    clientKey: pick(overrides.clientKey, 'NOMAD_CLIENT_KEY'),
    serverName: pick(overrides.tlsServerName, 'NOMAD_TLS_SERVER_NAME'),
    skipVerify,
  });
  if ((tls.clientCert === undefined) !== (tls.clientKey === undefined)) {
    problems.push('client_cert/client_key (NOMAD_CLIENT_CERT/NOMAD_CLIENT_KEY): Both client cert and client key must be provided');
  }
  const timeoutMs = overrides.timeoutMs ?? DEFAULT_NOMAD_TIMEOUT_MS;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) problems.push(`timeout_ms: must be a positive number of milliseconds, got ${timeoutMs}`);
  if (problems.length) throw new ConfigError(problems);

  return makeSettings(
    {
      address,
      namespace: pick(overrides.namespace, 'NOMAD_NAMESPACE'),
      region: pick(overrides.region, 'NOMAD_REGION'),
      ...(socketPath !== undefined ? { socketPath } : {}),
      ...(nonEmpty(overrides.tokenFile) !== undefined ? { tokenFile: overrides.tokenFile } : {}),
      tls,
      timeoutMs,
    },
    pick(overrides.token, 'NOMAD_TOKEN'),
    httpAuth,
  );
}

/** A frozen settings object whose secrets are hidden from every printable form. */
function makeSettings(
  plain: Omit<NomadSettings, 'token' | 'httpAuth'>,
  token: string | undefined,
  httpAuth: { username: string; password: string } | undefined,
): NomadSettings {
  const auth = httpAuth ? Object.freeze({ ...httpAuth }) : undefined;
  const redacted = (): Record<string, unknown> => ({
    ...plain,
    token: token === undefined ? undefined : REDACTED,
    httpAuth: auth ? { username: auth.username, password: REDACTED } : undefined,
  });
  const s = { ...plain };
  Object.defineProperties(s, {
    token: { get: () => token, enumerable: false },
    httpAuth: { get: () => auth, enumerable: false },
    toJSON: { value: redacted, enumerable: false },
    toString: { value: () => `NomadSettings ${JSON.stringify(redacted())}`, enumerable: false },
    [inspect.custom]: { value: (_d: number, opts: object) => `NomadSettings ${inspect(redacted(), opts)}`, enumerable: false },
  });
  return Object.freeze(s);
}

/** Every secret in the settings, for scrubbing texts that might echo one back. */
export function secretsOf(s: NomadSettings): string[] {
  const out: string[] = [];
  if (s.token) out.push(s.token);
  if (s.httpAuth?.password) {
    out.push(s.httpAuth.password, Buffer.from(`${s.httpAuth.username}:${s.httpAuth.password}`).toString('base64'));
  }
  return out;
}
