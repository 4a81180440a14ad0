// The agent's HTTP server (node:http): GET/HEAD only, routes from the route table, optional
// bearer token, JSON everywhere, errors as { error, problems }. Read-only by construction.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ServerConfig } from '../config/types';
import { ServerError } from '../errors';
import { rootLogger } from '../log';
import { bearerAuthenticator } from './auth';
import { allRoutes } from './openapi';
import { parseParams } from './params';
import type { Route, ServerContext } from './routes';

const log = rootLogger.child('server');
const REQUEST_TIMEOUT_MS = 10_000;

export class ApiServer {
  private readonly server: http.Server;
  private readonly routes: ReadonlyMap<string, Route>;
  private readonly authenticate: (h: string | undefined) => boolean;

  constructor(
    private readonly settings: ServerConfig,
    private readonly ctx: ServerContext,
  ) {
    this.routes = new Map(allRoutes(ctx.version).map((r) => [r.path, r]));
    this.authenticate = bearerAuthenticator(settings.bearer_token);
    this.server = http.createServer({ requestTimeout: REQUEST_TIMEOUT_MS }, (req, res) => this.handle(req, res));
    // The server never keeps the process alive on its own: the agent's lifecycle decides.
    this.server.unref();
  }

  /** Resolves once listening; rejects with a ServerError naming the address and why. */
  start(): Promise<void> {
    const { host, port } = this.settings;
    return new Promise((resolve, reject) => {
      const onError = (e: NodeJS.ErrnoException) => {
        reject(
          new ServerError(
            `service.server: cannot listen on ${host}:${port}: ${e.code ?? e.message}${e.code === 'EADDRINUSE' ? ' (another process has this port; set service.server.port)' : ''}`,
          ),
        );
      };
      this.server.once('error', onError);
      this.server.listen(port, host, () => {
        this.server.off('error', onError);
        this.server.on('error', (e) => log.error('server error', { error: e }));
        resolve();
      });
    });
  }

  /** http://host:port, as bound. */
  url(): string {
    const a = this.server.address() as AddressInfo | null;
    const host = a ? (a.family === 'IPv6' ? `[${a.address}]` : a.address) : this.settings.host;
    return `http://${host}:${a?.port ?? this.settings.port}`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      const text = JSON.stringify(body) + '\n';
      res.writeHead(status, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(text),
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
        ...headers,
      });
      res.end(req.method === 'HEAD' ? undefined : text);
    };
    try {
      const url = new URL(req.url ?? '/', 'http://agent');
      const route = this.routes.get(url.pathname);
      if (!route) {
        send(404, { error: `no route ${url.pathname}`, problems: [`routes: ${[...this.routes.keys()].join(', ')}`] });
        return;
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        send(405, { error: `${req.method} is not allowed: this API is read-only`, problems: [] }, { allow: 'GET, HEAD' });
        return;
      }
      if (route.auth && !this.authenticate(req.headers.authorization)) {
        send(401, { error: 'a bearer token is required (Authorization: Bearer <token>)', problems: [] }, { 'www-authenticate': 'Bearer realm="netwatch"' });
        return;
      }
      const { params, problems } = parseParams(route.params, url.searchParams, this.ctx.now());
      if (problems.length) {
        send(400, { error: `invalid query parameters for ${route.path}`, problems });
        return;
      }
      const out = route.handle({ params }, this.ctx);
      send(out.status, out.body);
    } catch (e) {
      // Never the headers: they may carry the token.
      log.error('request failed', { path: (req.url ?? '').split('?')[0], error: e as Error });
      send(500, { error: 'internal error', problems: [(e as Error).message] });
    }
  }
}
