// The agent's HTTP server (node:http): GET/HEAD only, routes from the route table, optional
// bearer token, JSON everywhere but the /docs page, errors as { error, problems }. Read-only by construction.
import { createReadStream } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ServerConfig } from '../config/types';
import { ServerError } from '../errors';
import { rootLogger } from '../log';
import { bearerAuthenticator } from './auth';
import { DOCS_CSP, DOCS_PATH, docsAnswer, docsFiles, isDocsPath } from './docs';
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
      if (!route && !isDocsPath(url.pathname)) {
        send(404, { error: `no route ${url.pathname}`, problems: [`routes: ${[...this.routes.keys(), DOCS_PATH].join(', ')}`] });
        return;
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        send(405, { error: `${req.method} is not allowed: this API is read-only`, problems: [] }, { allow: 'GET, HEAD' });
        return;
      }
      if (!route) {
        this.serveDocs(req, res, url.pathname, send);
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

  /**
   * The docs page and Swagger UI's files, without a token: a browser cannot send one when it
   * navigates, and they hold nothing of the agent's (the page asks for the token /openapi.json needs).
   */
  private serveDocs(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    pathname: string,
    send: (status: number, body: unknown, headers?: Record<string, string>) => void,
  ): void {
    const answer = docsAnswer(pathname);
    switch (answer.kind) {
      case 'missing':
        send(404, { error: `no route ${pathname}`, problems: [`files under ${DOCS_PATH}: ${docsFiles().join(', ')}`] });
        return;
      case 'redirect':
        res.writeHead(308, { location: answer.location, 'content-length': 0 });
        res.end();
        return;
      case 'asset':
        break;
    }
    const { asset } = answer;
    const headers = {
      'content-type': asset.contentType,
      etag: asset.etag,
      // Revalidated each time (304 while unchanged): an upgraded agent never shows an old page.
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
      'content-security-policy': DOCS_CSP,
      'referrer-policy': 'no-referrer',
    };
    if (req.headers['if-none-match'] === asset.etag) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    const size = asset.kind === 'inline' ? asset.body.length : asset.size;
    res.writeHead(200, { ...headers, 'content-length': size });
    if (req.method === 'HEAD') res.end();
    else if (asset.kind === 'inline') res.end(asset.body);
    else
      createReadStream(asset.path)
        .on('error', (e) => {
          log.error('docs: cannot read a file of swagger-ui-dist', { path: asset.path, error: e });
          res.destroy(e);
        })
        .pipe(res);
  }
}
