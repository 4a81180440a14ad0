// Pooled keep-alive HTTP(S) connections to Nomad (undici Agents), with per-request timeouts and
// errors turned into NomadError; no text that leaves here carries a secret. Blocking queries (a
// readiness or deployment wait holds a connection for up to a minute) get a pool of their own, so
// however many groups wait, a wake's read and scale never queue behind them.
import { readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import { Agent } from 'undici';
import { NomadError } from '../../../../errors';
import { classifyFailure, classifyStatus } from './classify';
import { secretsOf, type NomadSettings } from './settings';
import { tlsConnectOptions } from './tls';

export interface NomadRequest {
  readonly method: 'GET' | 'PUT' | 'POST' | 'DELETE';
  /** Path below the address, already escaped, e.g. /v1/job/web/scale. */
  readonly path: string;
  /** A list repeats the parameter (topic=a&topic=b); `true` is a parameter without a value (`?lock-acquire`). */
  readonly query?: Readonly<Record<string, string | readonly string[] | true | undefined>>;
  readonly body?: unknown;
  readonly timeoutMs: number;
  /** A blocking query: sent on the long-poll pool. */
  readonly longPoll?: boolean;
}

export interface NomadResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly text: string;
}

/** A 2xx answer whose body is still arriving (the event stream), until `signal` aborts it. */
export interface NomadStreamResponse {
  readonly status: number;
  readonly body: AsyncIterable<Buffer>;
}

const MAX_BODY_IN_MESSAGE = 300;

export class NomadTransport {
  private readonly agent: Agent;
  private readonly pollAgent: Agent;
  private secrets: string[];
  private readonly baseHeaders: Record<string, string>;
  /** Parsed once: a wake's latency budget is a couple of milliseconds. */
  private readonly origin: string;
  private readonly basePath: string;

  constructor(private readonly settings: NomadSettings) {
    // A Unix socket: requests name http://127.0.0.1, as Nomad's api client does (api/api.go).
    const url = new URL(settings.socketPath !== undefined ? 'http://127.0.0.1' : settings.address);
    this.origin = url.origin;
    this.basePath = url.pathname.replace(/\/$/, '');
    const secure = settings.address.startsWith('https:');
    const connect = settings.socketPath !== undefined ? { socketPath: settings.socketPath } : secure ? tlsConnectOptions(settings.tls) : undefined;
    this.agent = new Agent({ keepAliveTimeout: 30_000, connections: 16, connect });
    // One connection per waiting group (undici's default: no cap); idle ones close after 30 s.
    this.pollAgent = new Agent({ keepAliveTimeout: 30_000, connect });
    this.secrets = secretsOf(settings);
    this.baseHeaders = { 'user-agent': 'netwatch-nomad-autostart' };
    if (settings.token !== undefined) this.baseHeaders['x-nomad-token'] = settings.token;
    if (settings.tokenFile !== undefined) this.reloadToken();
    const auth = settings.httpAuth;
    if (auth) this.baseHeaders.authorization = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
  }

  /** Replaces every secret in a text, in case a server or proxy echoes one back. */
  scrub(text: string): string {
    let out = text;
    for (const s of this.secrets) if (s !== '') out = out.split(s).join('<redacted>');
    return out;
  }

  /**
   * Reads the token file again; true when it now holds another token. A workload identity's token
   * is rotated by Nomad (its file rewritten), so a 403 may only mean the token read before expired.
   * An unreadable file keeps the token in use.
   */
  private reloadToken(): boolean {
    let token: string;
    try {
      token = readFileSync(this.settings.tokenFile!, 'utf8').trim();
    } catch {
      return false;
    }
    if (token === '' || token === this.baseHeaders['x-nomad-token']) return false;
    this.baseHeaders['x-nomad-token'] = token;
    this.secrets = [...this.secrets, token];
    return true;
  }

  /** Sends one request; a non-2xx answer or a failure rejects with a classified NomadError. */
  async send(req: NomadRequest): Promise<NomadResponse> {
    try {
      return await this.sendOnce(req);
    } catch (e) {
      // A 403 with a token file: the token may have been rotated; one more try with the new one.
      if (e instanceof NomadError && e.status === 403 && this.settings.tokenFile !== undefined && this.reloadToken()) return this.sendOnce(req);
      throw e;
    }
  }

  /**
   * Opens a long-lived GET whose body is read as it arrives, on the long-poll pool. `timeoutMs`
   * bounds the wait for the answer's headers only; the body may stay silent as long as the caller
   * allows (it watches for heartbeats). A non-2xx answer rejects as `send` does.
   */
  async open(req: NomadRequest, signal: AbortSignal): Promise<NomadStreamResponse> {
    try {
      return await this.openOnce(req, signal);
    } catch (e) {
      if (e instanceof NomadError && e.status === 403 && this.settings.tokenFile !== undefined && this.reloadToken()) return this.openOnce(req, signal);
      throw e;
    }
  }

  private async openOnce(req: NomadRequest, signal: AbortSignal): Promise<NomadStreamResponse> {
    const where = `${req.method} ${this.settings.address}${req.path}`;
    let timedOut = false;
    const controller = new AbortController();
    const onAbort = (): void => controller.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, req.timeoutMs);
    try {
      const res = await this.pollAgent.request({
        origin: this.origin,
        path: this.pathOf(req),
        method: req.method,
        headers: { ...this.baseHeaders },
        signal: controller.signal,
        headersTimeout: req.timeoutMs,
        bodyTimeout: 0,
      });
      clearTimeout(timer);
      if (res.statusCode < 200 || res.statusCode >= 300) {
        const body = this.scrub(await res.body.text());
        const shown = body.length > MAX_BODY_IN_MESSAGE ? `${body.slice(0, MAX_BODY_IN_MESSAGE)}…` : body;
        throw new NomadError(`Nomad ${where}: ${res.statusCode} ${shown.trim()}`.trim(), res.statusCode, body, classifyStatus(res.statusCode, body), {
          index: indexOf(res.headers),
        });
      }
      res.body.once('close', () => signal.removeEventListener('abort', onAbort));
      return { status: res.statusCode, body: res.body as AsyncIterable<Buffer> };
    } catch (e) {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      if (e instanceof NomadError) throw e;
      const kind = classifyFailure(e, timedOut);
      const detail = timedOut ? `no answer within ${req.timeoutMs} ms` : this.scrub(describe(e));
      throw new NomadError(`Nomad ${where}: ${kind === 'timeout' ? 'timed out' : 'failed'}: ${detail}`, undefined, undefined, kind, {
        cause: new Error(detail),
      });
    }
  }

  /** The request's path with its query, below the address's own path. */
  private pathOf(req: NomadRequest): string {
    const params = new URLSearchParams();
    const flags: string[] = [];
    for (const [k, v] of Object.entries(req.query ?? {})) {
      if (v === true) flags.push(encodeURIComponent(k));
      else if (typeof v === 'string') {
        if (v !== '') params.set(k, v);
      } else if (v !== undefined) for (const item of v) params.append(k, item);
    }
    const qs = [...flags, params.toString()].filter((p) => p !== '').join('&');
    return `${this.basePath}${req.path}${qs ? `?${qs}` : ''}`;
  }

  private async sendOnce(req: NomadRequest): Promise<NomadResponse> {
    const where = `${req.method} ${this.settings.address}${req.path}`;
    const headers = { ...this.baseHeaders };
    let payload: string | undefined;
    if (req.body !== undefined) {
      payload = JSON.stringify(req.body);
      headers['content-type'] = 'application/json';
    }
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, req.timeoutMs);
    try {
      const res = await (req.longPoll ? this.pollAgent : this.agent).request({
        origin: this.origin,
        path: this.pathOf(req),
        method: req.method,
        headers,
        body: payload,
        signal: controller.signal,
        headersTimeout: req.timeoutMs,
        bodyTimeout: req.timeoutMs,
      });
      const text = await res.body.text();
      if (res.statusCode < 200 || res.statusCode >= 300) {
        const body = this.scrub(text);
        const shown = body.length > MAX_BODY_IN_MESSAGE ? `${body.slice(0, MAX_BODY_IN_MESSAGE)}…` : body;
        throw new NomadError(`Nomad ${where}: ${res.statusCode} ${shown.trim()}`.trim(), res.statusCode, body, classifyStatus(res.statusCode, body), {
          index: indexOf(res.headers),
        });
      }
      return { status: res.statusCode, headers: res.headers, text };
    } catch (e) {
      if (e instanceof NomadError) throw e;
      const kind = classifyFailure(e, timedOut);
      const detail = timedOut ? `no answer within ${req.timeoutMs} ms` : this.scrub(describe(e));
      throw new NomadError(`Nomad ${where}: ${kind === 'timeout' ? 'timed out' : 'failed'}: ${detail}`, undefined, undefined, kind, {
        cause: new Error(detail),
      });
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.agent.close(), this.pollAgent.close()]);
  }

  async destroy(): Promise<void> {
    await Promise.all([this.agent.destroy(), this.pollAgent.destroy()]);
  }

  // The headers hold the token and the basic-auth pair: never print them.
  [inspect.custom](): string {
    return `NomadTransport { address: ${this.settings.address} }`;
  }
  toJSON(): Record<string, string> {
    return { address: this.settings.address };
  }
}

/** X-Nomad-Index of an answer, when it has one. */
function indexOf(headers: Readonly<Record<string, string | string[] | undefined>>): number | undefined {
  const v = headers['x-nomad-index'];
  const n = Number(Array.isArray(v) ? v[0] : v);
  return v !== undefined && Number.isFinite(n) ? n : undefined;
}

/** What undici and node put on a failed request's error (and its causes); any of it may be missing. */
interface Failure {
  code?: unknown;
  message?: string;
  cause?: unknown;
}

/** "code: message" of an error and its causes, without any request options. */
function describe(e: unknown): string {
  const parts: string[] = [];
  for (let x: unknown = e, depth = 0; x && depth < 4; x = (x as Failure).cause, depth++) {
    const f = x as Failure;
    const code = typeof f.code === 'string' ? `${f.code}: ` : '';
    // eslint-disable-next-line @typescript-eslint/no-base-to-string -- a cause without a message: String() is all there is to show
    parts.push(`${code}${f.message ?? String(x)}`);
  }
  return parts.join(' <- ');
}
