// The HTTP layer every endpoint of the double shares: coded answers, headers, bodies, tokens.
// Follows hashicorp/nomad command/agent/http.go:
// - wrap / errCodeFromHandler: a coded error answers its code, an RPC error ending in
//   "Permission denied" or the scheduler-config text answers 403, anything else 500; error bodies
//   are text/plain.
// - setMeta (reads): X-Nomad-Index, X-Nomad-LastContact, X-Nomad-KnownLeader; setIndex (writes):
//   X-Nomad-Index only.
// - decodeBody: "Request body is empty" (400); parseToken: X-Nomad-Token, else
//   "Authorization: Bearer"; parseNamespace: `namespace` query, else "default".
// - nomad/rpc.go forwardRegion: an unknown region is 500 "No path to region" (structs/errors.go).
import type * as http from 'node:http';

/** structs.ErrJobRegistrationDisabled, answered 403 by http.go errCodeFromHandler. */
export const JOB_REGISTRATION_DISABLED = 'Job registration, dispatch, and scale are disabled by the scheduler configuration';
/** structs.ErrNoLeader, a plain RPC error: 500. */
export const NO_CLUSTER_LEADER = 'No cluster leader';

/** A coded answer, like Nomad's CodedError / RPC coded errors. */
export class Answer extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** What every endpoint needs from the request. */
export interface RequestContext {
  token: string | undefined;
  namespace: string;
  q: URLSearchParams;
  req: http.IncomingMessage;
  /** Whether the servers have a leader: a stale read answered without one says so in X-Nomad-KnownLeader. */
  knownLeader: boolean;
}

export function requestContext(req: http.IncomingMessage, url: URL, region: string, knownLeader = true): RequestContext {
  let token: string | undefined;
  const header = req.headers['x-nomad-token'];
  if (typeof header === 'string' && header.trim() !== '') token = header.trim();
  else {
    const auth = req.headers.authorization ?? '';
    const parts = auth.split(' ');
    if (parts.length > 1 && parts[0].toLowerCase() === 'bearer') token = parts.slice(1).join(' ').trim().split(' ')[0];
  }
  const r = url.searchParams.get('region');
  if (r && r !== region) throw new Answer(500, 'No path to region');
  return { token, namespace: url.searchParams.get('namespace') || 'default', q: url.searchParams, req, knownLeader };
}

export function sendText(res: http.ServerResponse, status: number, text: string): void {
  if (res.destroyed) return;
  res.writeHead(status, { 'Content-Type': 'text/plain' });
  res.end(text);
}

export function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string>): void {
  if (res.destroyed) return;
  res.writeHead(status, { ...headers, 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** setMeta's headers for a read at `index`. */
export function readMeta(index: number, ctx?: Pick<RequestContext, 'knownLeader'>): Record<string, string> {
  return { 'X-Nomad-Index': String(index), 'X-Nomad-LastContact': '0', 'X-Nomad-KnownLeader': String(ctx?.knownLeader ?? true) };
}

/** A 404 after a read still carries the read's headers (setMeta runs before the not-found check). */
export function notFoundAfterRead(res: http.ServerResponse, index: number, text: string, ctx?: Pick<RequestContext, 'knownLeader'>): Answer {
  for (const [h, v] of Object.entries(readMeta(index, ctx))) res.setHeader(h, v);
  return new Answer(404, text);
}

export function parseBody(raw: string): Record<string, unknown> {
  if (raw === '') throw new Answer(400, 'Request body is empty');
  try {
    const v = JSON.parse(raw);
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('json: cannot unmarshal into Go value of type struct');
    return v;
  } catch (e) {
    throw new Answer(400, (e as Error).message);
  }
}
