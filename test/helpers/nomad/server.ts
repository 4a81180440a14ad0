// The double's HTTP server and router, its seeding and fault-injection API, and the request log.
// Follows hashicorp/nomad command/agent/http.go registerHandlers (the routes below) and wrap
// ("Invalid method" 405, ErrInvalidMethod; unknown paths 404 with an empty body).
// HTTP basic auth is checked only when `basicAuth` is set: it models a proxy in front of Nomad
// (Nomad itself ignores basic auth), answering 401.
// Leader loss: nomad/rpc.go forward → getLeader: with no leader every RPC that must reach it fails
// with structs.ErrNoLeader, "No cluster leader" (a plain error: 500); a read with `stale` is
// answered by the server itself; the leader's variable lock timers stop and restart with
// leadership (variables.ts). The scheduler configuration: GET/PUT
// /v1/operator/scheduler/configuration (command/agent/operator_endpoint.go; operator:read/write,
// modelled as management only).
// Where each endpoint's behaviour comes from is cited in its own file:
//   jobs.ts          /v1/jobs, /v1/job/:id, /v1/job/:id/versions
//   scaling.ts       /v1/job/:id/scale (the JobModifyIndex check-and-set, commitDelayMs window)
//   deployments.ts   /v1/job/:id/deployment
//   allocations.ts   /v1/job/:id/allocations, /v1/allocation/:id, the scheduler
//   variables.ts     /v1/var/:path (CAS, lock-acquire/renew/release), /v1/vars
//   services.ts      /v1/services, /v1/service/:name[/:id]
//   nodes.ts         /v1/nodes, /v1/node/:id, the client nodes allocations are placed on
//   events.ts        /v1/event/stream
//   agent.ts         /v1/agent/self
//   acl.ts, blocking.ts, http.ts: tokens and capabilities, blocking queries, the HTTP layer
// Test controls beyond Nomad: failNext / delay / resetNext (faults), barrier (hold matching
// requests until N arrived, then handle them one by one in a chosen order — how a test makes
// several agents' CAS writes interleave deterministically; scaling.ts's commitDelayMs instead
// models the window inside one Job.Scale, and Variables.Apply has no such window: its CAS is
// checked in the state store), addNode / setNodeStatus / setNodeEligibility, registerService /
// deregisterService, server.lockTimeScale (lock timers faster than the wall clock).
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { Acl, tokenHash, type DoubleToken } from './acl';
import { agentSelf, type DoubleAgent } from './agent';
import { jobAllocations, readAlloc, scheduleAll } from './allocations';
import { DEPLOYMENT_SUCCESSFUL, endDeployment, latestDeployment, startDeployment } from './deployments';
import { Answer, NO_CLUSTER_LEADER, parseBody, readMeta, requestContext, sendJson, sendText } from './http';
import { deregister, jobVersions, listJobs, readJob, register, seedJob, type DoubleJobSeed } from './jobs';
import { scale, scaleStatus } from './scaling';
import {
  DEFAULT_SERVER_CONFIG,
  jobKey,
  NomadState,
  variableKey,
  type Alloc,
  type Cluster,
  type DoubleNodeRecord,
  type Job,
  type ServerConfig,
  type ServiceRegistration,
  type Variable,
} from './state';
import { eventStream } from './events';
import { leadershipChanged, listVariables, variableRequest } from './variables';
import { DEFAULT_NODE, listNodes, nodeReady, readNode, upsertNode, type DoubleNodeSeed } from './nodes';
import { deleteService, listServices, serviceRequest, upsertServices, type DoubleServiceRegistrationSeed } from './services';

export interface NomadDoubleOptions {
  /** Serve HTTPS with this key pair (PEM); `ca` + `requestCert` demand a client certificate. */
  tls?: { cert: string | Buffer; key: string | Buffer; ca?: string | Buffer; requestCert?: boolean };
  acl?: boolean;
  tokens?: DoubleToken[];
  region?: string;
  namespaces?: string[];
  basicAuth?: { username: string; password: string };
  pendingDelayMs?: number;
  /** Listen on this Unix socket instead of 127.0.0.1 (like a task's Task API socket); `url` is then unix://<path>. */
  unixSocket?: string;
  /** The servers' version and configuration (defaults: Nomad's own; see state.ts ServerConfig). */
  server?: Partial<ServerConfig>;
  /** The agent whose HTTP API this is (agent.ts): a server (default) or a client, and its version. */
  agent?: DoubleAgent;
  /** The client nodes (nodes.ts); default one ready node, DEFAULT_NODE. */
  nodes?: DoubleNodeSeed[];
}

export interface RecordedRequest {
  method: string;
  path: string;
  /** The last value of each parameter; `search` has them all (topic=a&topic=b). */
  query: Record<string, string>;
  search: string;
  headers: Record<string, string>;
  body: unknown;
  at: number;
}

/** Which requests a fault applies to (all when undefined). */
export interface RequestMatch {
  method?: string;
  path?: RegExp;
  /** A further test on the recorded request (its query, headers — the token hashed — or body). */
  where?: (r: RecordedRequest) => boolean;
}

function matchesRequest(m: RequestMatch | undefined, req: http.IncomingMessage, url: URL, rec?: RecordedRequest): boolean {
  return !m || ((!m.method || m.method === req.method) && (!m.path || m.path.test(url.pathname)) && (!m.where || (rec !== undefined && m.where(rec))));
}

/** How a barrier lets its held requests go (see NomadDouble.barrier). */
export interface BarrierOptions {
  /**
   * The order to handle them in, as positions in arrival order ([1, 0]: the second to arrive goes
   * first), or a function of the requests as recorded, in arrival order. Default: arrival order.
   */
  order?: number[] | ((arrived: RecordedRequest[]) => number[]);
  /** Give up after this long (default 5000 ms): the held requests go in arrival order and the promise rejects. */
  timeoutMs?: number;
}

interface Barrier {
  match: RequestMatch;
  count: number;
  opts: BarrierOptions;
  held: { rec: RecordedRequest; go: () => void; done: Promise<void> }[];
  settle: (err?: Error) => void;
  timer?: NodeJS.Timeout;
}

export class NomadDouble {
  readonly region: string;
  private server!: http.Server;
  private sockets = new Set<Socket>();
  private readonly state: NomadState;
  private readonly acl: Acl;
  private readonly cluster: Cluster;
  private readonly log: RecordedRequest[] = [];
  private faults: {
    failCount: number;
    failStatus: number;
    failBody: string;
    failFor?: RequestMatch;
    latencyMs: number;
    latencyFor?: RequestMatch;
    resetCount: number;
  } = {
    failCount: 0,
    failStatus: 500,
    failBody: 'injected fault',
    latencyMs: 0,
    resetCount: 0,
  };
  private barriers: Barrier[] = [];
  private connectionCount = 0;
  url = '';
  port = 0;

  private constructor(private readonly opts: NomadDoubleOptions) {
    this.region = opts.region ?? 'global';
    this.state = new NomadState(this.region, new Set(['default', ...(opts.namespaces ?? [])]), opts.pendingDelayMs ?? 20, {
      ...DEFAULT_SERVER_CONFIG,
      ...opts.server,
    });
    this.acl = new Acl(opts.acl ?? false, opts.tokens ?? []);
    this.cluster = { state: this.state, acl: this.acl };
    for (const n of opts.nodes ?? [DEFAULT_NODE]) upsertNode(this.state, n, this.state.index);
  }

  /** Starts a double on 127.0.0.1 on a free port. */
  static async start(opts: NomadDoubleOptions = {}): Promise<NomadDouble> {
    const d = new NomadDouble(opts);
    const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => void d.handle(req, res);
    d.server = opts.tls
      ? https.createServer(
          {
            cert: opts.tls.cert,
            key: opts.tls.key,
            ca: opts.tls.ca,
            requestCert: opts.tls.requestCert ?? false,
            rejectUnauthorized: opts.tls.requestCert ?? false,
          },
          handler,
        )
      : http.createServer(handler);
    d.server.on(opts.tls ? 'secureConnection' : 'connection', (s: Socket) => {
      d.connectionCount++;
      d.sockets.add(s);
      s.on('close', () => d.sockets.delete(s));
    });
    if (opts.unixSocket !== undefined) {
      const path = opts.unixSocket;
      await new Promise<void>((resolve) => d.server.listen(path, resolve));
      d.url = `unix://${path}`;
      return d;
    }
    await new Promise<void>((resolve) => d.server.listen(0, '127.0.0.1', resolve));
    d.port = (d.server.address() as AddressInfo).port;
    d.url = `${opts.tls ? 'https' : 'http'}://127.0.0.1:${d.port}`;
    return d;
  }

  // ---- seeding and fault injection -------------------------------------------------------

  /** Registers a job as if submitted (canonicalized, validated); its allocations start pending. */
  addJob(seed: DoubleJobSeed): Job {
    return seedJob(this.state, seed);
  }
  addNamespace(name: string): void {
    this.state.namespaces.add(name);
  }
  addToken(token: DoubleToken): void {
    this.acl.tokens.set(token.secretId, token);
  }
  setAcl(enabled: boolean): void {
    this.acl.enabled = enabled;
  }
  setPendingDelay(ms: number): void {
    this.state.pendingDelayMs = ms;
  }
  /** The next `n` requests (or those matching `only`) answer `status` with `body` (recorded, never handled). */
  failNext(n: number, status = 500, body = 'injected fault', only?: RequestMatch): void {
    this.faults = { ...this.faults, failCount: n, failStatus: status, failBody: body, failFor: only };
  }
  /**
   * Every later request (or only those matching `only`) waits `ms` before it is handled (0 turns
   * it off). A client that gives up meanwhile does not stop it: like Nomad, the request is still
   * carried out.
   */
  delay(ms: number, only?: RequestMatch): void {
    this.faults.latencyMs = ms;
    this.faults.latencyFor = only;
  }
  /** The next `n` requests have their connection destroyed instead of an answer. */
  resetNext(n: number): void {
    this.faults.resetCount = n;
  }
  /**
   * Registers a client node, or updates the one with the same ID (Node.Register). A node that
   * becomes ready gets the allocations no node could take.
   */
  addNode(seed: DoubleNodeSeed): void {
    const wasReady = this.state.nodes.get(seed.ID);
    const node = upsertNode(this.state, seed);
    if (nodeReady(node) && !(wasReady && nodeReady(wasReady))) scheduleAll(this.state);
  }
  /** A node's status changes (the heartbeat's verdict: ready, down, …); see nodes.ts for what is not modelled. */
  setNodeStatus(id: string, status: DoubleNodeRecord['Status']): void {
    if (!this.state.nodes.has(id)) throw new Error(`no node ${id}`);
    this.addNode({ ID: id, Status: status });
  }
  /** `nomad node eligibility -enable/-disable`. */
  setNodeEligibility(id: string, eligible: boolean): void {
    if (!this.state.nodes.has(id)) throw new Error(`no node ${id}`);
    this.addNode({ ID: id, SchedulingEligibility: eligible ? 'eligible' : 'ineligible' });
  }
  /** Registers a service as a client would (ServiceRegistration.Upsert), outside any allocation of a job the double runs. */
  registerService(seed: DoubleServiceRegistrationSeed): void {
    const node = this.state.nodes.get(seed.NodeID);
    upsertServices(this.state, [
      { ...seed, Namespace: seed.Namespace ?? 'default', Tags: seed.Tags ?? [], Datacenter: seed.Datacenter ?? node?.Datacenter ?? 'dc1' },
    ]);
  }
  /** Removes a registration as a client would (ServiceRegistration.DeleteByID); false if there was none. */
  deregisterService(id: string): boolean {
    return deleteService(this.state, id);
  }
  /**
   * Holds the next `count` requests that match until all of them have arrived, then lets them go
   * one at a time in the chosen order, each handled to its answer before the next starts — so
   * several agents' writes reach the state store in an order the test decides. Resolves with the
   * held requests (arrival order) once all are answered. Requests that do not match pass freely.
   */
  barrier(match: RequestMatch, count: number, opts: BarrierOptions = {}): Promise<RecordedRequest[]> {
    return new Promise((resolve, reject) => {
      const b: Barrier = {
        match,
        count,
        opts,
        held: [],
        settle: (err) => {
          if (b.timer) clearTimeout(b.timer);
          this.barriers = this.barriers.filter((x) => x !== b);
          if (err) reject(err);
          else resolve(b.held.map((h) => h.rec));
        },
      };
      b.timer = setTimeout(() => {
        this.barriers = this.barriers.filter((x) => x !== b);
        void this.releaseBarrier(
          b,
          b.held.map((_, i) => i),
        ).then(() => b.settle(new Error(`barrier: ${b.held.length} of ${count} requests arrived within ${opts.timeoutMs ?? 5000} ms`)));
      }, opts.timeoutMs ?? 5000);
      this.barriers.push(b);
    });
  }
  /** Marks the job's latest deployment active (or not), which blocks count changes. */
  setActiveDeployment(jobId: string, active: boolean, namespace = 'default'): void {
    const k = jobKey(namespace, jobId);
    if (active) {
      const job = this.state.jobs.get(k);
      if (!job) throw new Error(`no job ${jobId} in namespace ${namespace}`);
      startDeployment(this.state, job, true);
    } else endDeployment(this.state, k, 'successful', DEPLOYMENT_SUCCESSFUL);
    this.state.bump();
  }
  /**
   * The scheduler configuration's RejectJobRegistration, as `nomad operator scheduler
   * set-config -reject-job-registration` sets it.
   */
  setRejectJobRegistration(on: boolean): void {
    this.state.rejectJobRegistration = on;
  }
  /** Closes every open event stream (a server restarting or leaving); clients reconnect. */
  dropEventStreams(): void {
    this.state.streamControl.emit('drop');
  }
  /** Open event streams go silent (true: no line at all, heartbeats included) or speak again. */
  silenceEventStreams(silent: boolean): void {
    this.state.streamsSilent = silent;
  }
  /** The servers lose their leader (false) or elect one again (true). */
  setLeader(present: boolean): void {
    const changed = this.state.leader !== present;
    this.state.leader = present;
    if (changed) leadershipChanged(this.state);
    this.state.bump();
  }

  requests(): RecordedRequest[] {
    return this.log.slice();
  }
  clearRequests(): void {
    this.log.length = 0;
  }
  /** Count of recorded requests matching a method and a path (string equality or RegExp). */
  count(method: string, path: string | RegExp): number {
    return this.log.filter((r) => r.method === method && (typeof path === 'string' ? r.path === path : path.test(r.path))).length;
  }

  /** The stored job (a copy), for assertions. */
  job(id: string, namespace = 'default'): Job | undefined {
    const j = this.state.jobs.get(jobKey(namespace, id));
    return j ? structuredClone(j) : undefined;
  }
  allocations(id: string, namespace = 'default'): Alloc[] {
    return this.state.jobAllocs(namespace, id).map((a) => structuredClone(a));
  }
  /** The client nodes (copies), in registration order. */
  nodes(): DoubleNodeRecord[] {
    return [...this.state.nodes.values()].map((n) => structuredClone(n));
  }
  /** The service registrations (copies), optionally only one service name's, sorted by ID. */
  services(name?: string, namespace = 'default'): ServiceRegistration[] {
    return [...this.state.services.values()]
      .filter((s) => name === undefined || (s.ServiceName === name && s.Namespace === namespace))
      .sort((a, b) => (a.ID < b.ID ? -1 : 1))
      .map((s) => structuredClone(s));
  }
  /** The stored variable (a copy; Lock durations in nanoseconds), for assertions. */
  variable(path: string, namespace = 'default'): Variable | undefined {
    const v = this.state.variables.get(variableKey(namespace, path));
    return v ? structuredClone(v) : undefined;
  }
  currentIndex(): number {
    return this.state.index;
  }
  /** How many connections (TLS: completed handshakes) the double has accepted. */
  connections(): number {
    return this.connectionCount;
  }

  async stop(): Promise<void> {
    for (const b of this.barriers) {
      if (b.timer) clearTimeout(b.timer);
      for (const h of b.held) h.go();
      b.settle(new Error(`barrier: the double stopped with ${b.held.length} of ${b.count} requests held`));
    }
    this.state.stop();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ---- HTTP ----------------------------------------------------------------------------

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://double');
    const rec = this.record(req, url, raw);

    if (this.faults.resetCount > 0) {
      this.faults.resetCount--;
      req.socket.destroy();
      return;
    }
    if (this.faults.failCount > 0 && matchesRequest(this.faults.failFor, req, url, rec)) {
      this.faults.failCount--;
      return sendText(res, this.faults.failStatus, this.faults.failBody);
    }
    const barrier = this.barriers.find((b) => b.held.length < b.count && matchesRequest(b.match, req, url, rec));
    let finish: (() => void) | undefined;
    if (barrier) {
      let go!: () => void;
      const gate = new Promise<void>((r) => (go = r));
      const done = new Promise<void>((r) => (finish = r));
      barrier.held.push({ rec, go, done });
      if (barrier.held.length === barrier.count) void this.openBarrier(barrier);
      await gate;
    }
    try {
      await this.handleHeld(req, res, url, raw, rec);
    } finally {
      finish?.();
    }
  }

  /** The count has arrived: the held requests go in the chosen order. */
  private async openBarrier(b: Barrier): Promise<void> {
    if (b.timer) clearTimeout(b.timer);
    this.barriers = this.barriers.filter((x) => x !== b);
    const arrived = b.held.map((h) => h.rec);
    const order = typeof b.opts.order === 'function' ? b.opts.order(arrived) : (b.opts.order ?? arrived.map((_, i) => i));
    const valid = order.length === b.count && new Set(order).size === b.count && order.every((i) => Number.isInteger(i) && i >= 0 && i < b.count);
    if (!valid) {
      await this.releaseBarrier(
        b,
        arrived.map((_, i) => i),
      );
      return b.settle(new Error(`barrier: order ${JSON.stringify(order)} is not a permutation of 0..${b.count - 1}`));
    }
    await this.releaseBarrier(b, order);
    b.settle();
  }

  private async releaseBarrier(b: Barrier, order: number[]): Promise<void> {
    for (const i of order) {
      b.held[i].go();
      await b.held[i].done;
    }
  }

  private async handleHeld(req: http.IncomingMessage, res: http.ServerResponse, url: URL, raw: string, rec: RecordedRequest): Promise<void> {
    if (this.faults.latencyMs > 0 && matchesRequest(this.faults.latencyFor, req, url, rec)) {
      await new Promise((r) => setTimeout(r, this.faults.latencyMs));
    }

    try {
      if (this.opts.basicAuth && !this.basicAuthOk(req)) {
        res.setHeader('WWW-Authenticate', 'Basic realm="nomad"');
        return sendText(res, 401, 'Unauthorized');
      }
      await this.route(req, res, url, raw);
    } catch (e) {
      if (e instanceof Answer) return sendText(res, e.status, e.message);
      sendText(res, 500, e instanceof Error ? e.message : String(e));
    }
  }

  private record(req: http.IncomingMessage, url: URL, raw: string): RecordedRequest {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      const value = Array.isArray(v) ? v.join(', ') : (v ?? '');
      if (k === 'x-nomad-token') headers[k] = tokenHash(value);
      else if (k === 'authorization')
        headers[k] = value.toLowerCase().startsWith('basic ')
          ? `Basic <redacted user=${this.basicUser(value)}>`
          : `Bearer ${tokenHash(value.replace(/^bearer\s+/i, ''))}`;
      else headers[k] = value;
    }
    let body: unknown = raw === '' ? undefined : raw;
    try {
      if (raw !== '') body = JSON.parse(raw);
    } catch {
      /* keep the raw text */
    }
    let path = url.pathname;
    try {
      path = decodeURIComponent(path);
    } catch {
      /* keep the encoded path */
    }
    const rec: RecordedRequest = {
      method: req.method ?? 'GET',
      path,
      query: Object.fromEntries(url.searchParams),
      search: url.search,
      headers,
      body,
      at: Date.now(),
    };
    this.log.push(rec);
    return rec;
  }

  private basicUser(h: string): string {
    return Buffer.from(h.slice(6), 'base64').toString('utf8').split(':')[0];
  }
  private basicAuthOk(req: http.IncomingMessage): boolean {
    const h = req.headers.authorization ?? '';
    if (!h.toLowerCase().startsWith('basic ')) return false;
    const [u, ...p] = Buffer.from(h.slice(6), 'base64').toString('utf8').split(':');
    return u === this.opts.basicAuth!.username && p.join(':') === this.opts.basicAuth!.password;
  }

  private async route(req: http.IncomingMessage, res: http.ServerResponse, url: URL, raw: string): Promise<void> {
    const c = this.cluster;
    const method = req.method ?? 'GET';
    let path = url.pathname;
    try {
      path = decodeURIComponent(path);
    } catch {
      throw new Answer(400, 'invalid path encoding');
    }
    const ctx = requestContext(req, url, this.region, this.state.leader);
    // The event stream is served by whichever server the agent talks to (nomad/event_endpoint.go
    // forwards only across regions); every other RPC needs the leader unless a read allows stale.
    if (path === '/v1/event/stream') {
      if (method !== 'GET') throw new Answer(405, 'Invalid method');
      return eventStream(c, res, ctx);
    }
    // Answered by the agent itself, leader or not (command/agent/agent_endpoint.go).
    if (path === '/v1/agent/self') return agentSelf(c, this.opts.agent ?? { server: true }, res, ctx, method);
    if (!this.state.leader && !(method === 'GET' && ctx.q.has('stale'))) throw new Answer(500, NO_CLUSTER_LEADER);
    if (path === '/v1/operator/scheduler/configuration') return this.schedulerConfiguration(method, res, ctx, raw);
    if (path === '/v1/jobs') {
      if (method === 'PUT' || method === 'POST') return register(c, res, ctx, raw, '');
      if (method === 'GET') return listJobs(c, res, ctx);
      throw new Answer(405, 'Invalid method');
    }
    if (path.startsWith('/v1/job/')) {
      const rest = path.slice('/v1/job/'.length);
      if (rest.endsWith('/scale')) {
        const id = rest.slice(0, -'/scale'.length);
        if (method === 'GET') return scaleStatus(c, res, ctx, id);
        if (method === 'PUT' || method === 'POST') return scale(c, res, ctx, id, raw);
        throw new Answer(405, 'Invalid method');
      }
      if (rest.endsWith('/deployment')) {
        if (method !== 'GET') throw new Answer(405, 'Invalid method');
        return latestDeployment(c, res, ctx, rest.slice(0, -'/deployment'.length));
      }
      if (rest.endsWith('/versions')) {
        if (method !== 'GET') throw new Answer(405, 'Invalid method');
        return jobVersions(c, res, ctx, rest.slice(0, -'/versions'.length));
      }
      if (rest.endsWith('/allocations')) {
        if (method !== 'GET') throw new Answer(405, 'Invalid method');
        return jobAllocations(c, res, ctx, rest.slice(0, -'/allocations'.length));
      }
      if (method === 'GET') return readJob(c, res, ctx, rest);
      if (method === 'PUT' || method === 'POST') return register(c, res, ctx, raw, rest);
      if (method === 'DELETE') return deregister(c, res, ctx, rest, url);
      throw new Answer(405, 'Invalid method');
    }
    if (path === '/v1/vars') return listVariables(c, res, ctx, method);
    if (path.startsWith('/v1/var/')) return variableRequest(c, res, ctx, method, path.slice('/v1/var/'.length), raw);
    if (path === '/v1/nodes') return listNodes(c, res, ctx, method);
    if (path.startsWith('/v1/node/')) return readNode(c, res, ctx, method, path.slice('/v1/node/'.length));
    if (path === '/v1/services') return listServices(c, res, ctx, method);
    if (path.startsWith('/v1/service/')) return serviceRequest(c, res, ctx, method, path.slice('/v1/service/'.length));
    if (path.startsWith('/v1/allocation/')) {
      if (method !== 'GET') throw new Answer(405, 'Invalid method');
      return readAlloc(c, res, ctx, path.slice('/v1/allocation/'.length));
    }
    sendText(res, 404, '');
  }

  /** GET/PUT /v1/operator/scheduler/configuration (operator:read / operator:write; here: management). */
  private schedulerConfiguration(method: string, res: http.ServerResponse, ctx: ReturnType<typeof requestContext>, raw: string): void {
    this.acl.authenticate(ctx.token);
    if (!this.acl.isManagement(ctx.token)) throw new Answer(403, 'Permission denied');
    if (method === 'GET') {
      return sendJson(
        res,
        200,
        { SchedulerConfig: { RejectJobRegistration: this.state.rejectJobRegistration }, Index: this.state.index },
        readMeta(this.state.index, ctx),
      );
    }
    if (method !== 'PUT' && method !== 'POST') throw new Answer(405, 'Invalid method');
    const body = parseBody(raw);
    this.state.rejectJobRegistration = body.RejectJobRegistration === true;
    const idx = this.state.nextIndex();
    sendJson(res, 200, { Updated: true, Index: idx }, { 'X-Nomad-Index': String(idx) });
  }
}
