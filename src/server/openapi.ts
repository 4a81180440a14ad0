// /openapi.json: an OpenAPI 3.1 document generated from the route table, so every route the
// server answers is documented with the parameters it really parses.
import { paramSchema } from './params';
import { ROUTES, type Route } from './routes';
import * as S from './schemas';

export function openApiDocument(routes: readonly Route[], version: string): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  for (const r of routes) {
    paths[r.path] = {
      get: {
        operationId: r.path.replace(/^\//, '').replace(/[/.]/g, '_') || 'root',
        summary: r.summary,
        description: r.description,
        tags: [r.tag],
        ...(r.auth ? {} : { security: [] }),
        parameters: r.params.map((p) => ({
          name: p.name,
          in: 'query',
          required: false,
          description: p.description,
          schema: paramSchema(p.type),
          ...(p.example !== undefined ? { example: p.example } : {}),
        })),
        responses: Object.fromEntries(
          Object.entries(r.responses).map(([status, resp]) => [
            status,
            { description: resp.description, content: { 'application/json': { schema: resp.schema } } },
          ]),
        ),
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'netwatch agent API',
      version,
      description:
        'Health of the agent and a read-only query API over a bounded in-memory window of recent events. ' +
        'When service.server.bearer_token is set, every route but /livez and /readyz needs `Authorization: Bearer <token>`.',
    },
    servers: [{ url: '/' }],
    tags: [
      { name: 'health', description: 'Liveness, readiness and the health report.' },
      { name: 'query', description: 'Recent events and their summaries.' },
      { name: 'meta', description: 'This document.' },
    ],
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    security: [{ bearer: [] }],
    paths,
  };
}

/** The route table the server answers: ROUTES plus /openapi.json, documented in its own output. */
export function allRoutes(version: string): readonly Route[] {
  let doc: Record<string, unknown> | undefined;
  const self: Route = {
    path: '/openapi.json',
    summary: 'OpenAPI document',
    description: 'This API, as OpenAPI 3.1, generated from the route table the server dispatches from.',
    tag: 'meta',
    auth: true,
    params: [],
    responses: { 200: { description: 'The document.', schema: S.OPENAPI }, 401: { description: 'Missing or wrong bearer token.', schema: S.ERROR } },
    handle: () => ({ status: 200, body: (doc ??= openApiDocument(routes, version)) }),
  };
  const routes = [...ROUTES, self];
  return routes;
}
