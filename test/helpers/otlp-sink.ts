// A tiny OTLP receiver for tests: OTLP/gRPC (@grpc/grpc-js) and OTLP/HTTP (proto and JSON) on
// 127.0.0.1, decoding with protobufjs from the official OTLP .proto files vendored in otlp-proto/.
import * as grpc from '@grpc/grpc-js';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { gunzipSync } from 'node:zlib';
import * as protobuf from 'protobufjs';
import { repoPath } from './paths';

const PROTO_DIR = repoPath('test', 'helpers', 'otlp-proto');
const SERVICE_FILES = ['opentelemetry/proto/collector/metrics/v1/metrics_service.proto', 'opentelemetry/proto/collector/logs/v1/logs_service.proto'];

function loadProtos(): protobuf.Root {
  const root = new protobuf.Root();
  // Imports in the .proto files are relative to the repository root of opentelemetry-proto.
  root.resolvePath = (_origin, target) => (target.startsWith('/') ? target : join(PROTO_DIR, target));
  root.loadSync(SERVICE_FILES).resolveAll();
  return root;
}
const root = loadProtos();
const type = (name: string): protobuf.Type => root.lookupType(`opentelemetry.proto.${name}`);
const CODECS = {
  metrics: { req: type('collector.metrics.v1.ExportMetricsServiceRequest'), res: type('collector.metrics.v1.ExportMetricsServiceResponse') },
  logs: { req: type('collector.logs.v1.ExportLogsServiceRequest'), res: type('collector.logs.v1.ExportLogsServiceResponse') },
};
const GRPC_PATHS = {
  metrics: '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
  logs: '/opentelemetry.proto.collector.logs.v1.LogsService/Export',
};
const TO_OBJECT = { longs: Number, enums: Number, bytes: String, defaults: false, arrays: true };

type Signal = 'metrics' | 'logs';
export type Transport = 'grpc' | 'http/protobuf' | 'http/json';
export type Attrs = Record<string, unknown>;

export interface SinkRequest {
  signal: Signal;
  transport: Transport;
  /** Request headers / gRPC metadata, lower-case keys. */
  headers: Record<string, string>;
  /** The HTTP Host header, or the gRPC :authority. */
  authority: string;
  /** The TLS server name the client sent (SNI); HTTP only, gRPC's server does not expose it. */
  servername?: string;
  body: Record<string, unknown>;
}

export interface SinkPoint {
  metric: string;
  unit: string;
  description: string;
  type: 'sum' | 'gauge' | 'histogram' | 'exponential_histogram';
  monotonic: boolean;
  /** 1 delta, 2 cumulative (AggregationTemporality). */
  temporality: number;
  attributes: Attrs;
  timeUnixNano: number;
  /** Since when a cumulative point counts (a new one after a reset). */
  startTimeUnixNano: number;
  value: number;
  count: number;
  sum: number;
  bucketCounts: number[];
  explicitBounds: number[];
  /** Exponential histograms: the scale, the zero bucket and the positive buckets from `offset`. */
  scale: number;
  zeroCount: number;
  offset: number;
  seq: number;
}

export interface SinkLogRecord {
  eventName?: string;
  timeUnixNano: number;
  timeUnixMs: number;
  observedTimeUnixNano: number;
  severityNumber?: number;
  severityText?: string;
  body?: unknown;
  attributes: Attrs;
  resource: Attrs;
  scope: string;
}

export interface SinkOptions {
  /** Answer every export with UNAVAILABLE (gRPC) / 503 (HTTP), like a collector that is down. */
  unavailable?: boolean;
  /** Serve TLS (gRPC and HTTPS) with this key and certificate (PEM) instead of plaintext; with `clientCa`, require client certificates it signed. */
  tls?: { key: Buffer; cert: Buffer; clientCa?: Buffer };
}

/**
 * A self-signed certificate for `name` (and only that name: not 127.0.0.1, so that connecting to
 * the loopback address verifies only with a server name override), made with openssl in `dir`.
 */
export function selfSignedCert(dir: string, name: string, opts: { ip?: string } = {}): { key: Buffer; cert: Buffer; certFile: string; keyFile: string } {
  const keyFile = join(dir, `${name}.key.pem`);
  const certFile = join(dir, `${name}.cert.pem`);
  const san = `subjectAltName=DNS:${name}${opts.ip ? `,IP:${opts.ip}` : ''}`;
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-subj',
      `/CN=${name}`,
      '-addext',
      san,
      '-keyout',
      keyFile,
      '-out',
      certFile,
    ],
    { stdio: 'ignore' },
  );
  return { key: readFileSync(keyFile), cert: readFileSync(certFile), certFile, keyFile };
}

type AnyValue = Record<string, unknown>;
function anyValue(v: AnyValue | undefined): unknown {
  if (!v) return undefined;
  if ('stringValue' in v) return v.stringValue;
  if ('boolValue' in v) return v.boolValue;
  if ('intValue' in v) return Number(v.intValue);
  if ('doubleValue' in v) return Number(v.doubleValue);
  if ('arrayValue' in v) return ((v.arrayValue as { values?: AnyValue[] }).values ?? []).map(anyValue);
  if ('kvlistValue' in v) return attrsOf((v.kvlistValue as { values?: KeyValue[] }).values);
  if ('bytesValue' in v) return v.bytesValue;
  return undefined;
}
type KeyValue = { key: string; value?: AnyValue };
function attrsOf(list: KeyValue[] | undefined): Attrs {
  const out: Attrs = {};
  for (const kv of list ?? []) out[kv.key] = anyValue(kv.value);
  return out;
}
const seriesKey = (a: Attrs): string =>
  JSON.stringify(
    Object.keys(a)
      .sort()
      .map((k) => [k, a[k]]),
  );
const matches = (a: Attrs, filter: Attrs = {}): boolean => Object.entries(filter).every(([k, v]) => a[k] === v);

export class OtlpSink {
  readonly requests: SinkRequest[] = [];
  unavailable: boolean;
  private grpcServer = new grpc.Server();
  private httpServer: Server;
  private grpcPort = 0;
  private httpPort = 0;
  private seq = 0;
  private readonly points: SinkPoint[] = [];
  private readonly records: SinkLogRecord[] = [];
  private lastResource: Attrs = {};

  private readonly tls: SinkOptions['tls'];

  private constructor(opts: SinkOptions) {
    this.unavailable = opts.unavailable ?? false;
    this.tls = opts.tls;
    const handler = (req: IncomingMessage, res: ServerResponse) => this.onHttp(req, res);
    const t = opts.tls;
    this.httpServer = t
      ? createTlsServer({ key: t.key, cert: t.cert, ...(t.clientCa ? { ca: t.clientCa, requestCert: true, rejectUnauthorized: true } : {}) }, handler)
      : createServer(handler);
  }

  static async start(opts: SinkOptions = {}): Promise<OtlpSink> {
    const s = new OtlpSink(opts);
    for (const signal of ['metrics', 'logs'] as const) s.addGrpcService(signal);
    s.grpcPort = await new Promise<number>((resolve, reject) =>
      s.grpcServer.bindAsync('127.0.0.1:0', s.grpcCredentials(), (err, port) => (err ? reject(err) : resolve(port))),
    );
    await new Promise<void>((resolve) => s.httpServer.listen(0, '127.0.0.1', resolve));
    s.httpPort = (s.httpServer.address() as AddressInfo).port;
    return s;
  }

  private grpcCredentials(): grpc.ServerCredentials {
    if (!this.tls) return grpc.ServerCredentials.createInsecure();
    return grpc.ServerCredentials.createSsl(
      this.tls.clientCa ?? null,
      [{ private_key: this.tls.key, cert_chain: this.tls.cert }],
      this.tls.clientCa !== undefined,
    );
  }

  /** host:port for the `otlp` (gRPC) exporter. */
  get grpcEndpoint(): string {
    return `127.0.0.1:${this.grpcPort}`;
  }
  /** Base URL for the `otlphttp` exporter. */
  get httpEndpoint(): string {
    return `${this.tls ? 'https' : 'http'}://127.0.0.1:${this.httpPort}`;
  }

  private addGrpcService(signal: Signal): void {
    const { req, res } = CODECS[signal];
    const definition: grpc.ServiceDefinition = {
      Export: {
        path: GRPC_PATHS[signal],
        requestStream: false,
        responseStream: false,
        requestSerialize: (m: object) => Buffer.from(req.encode(m).finish()),
        requestDeserialize: (b: Buffer) => req.decode(b) as object,
        responseSerialize: (m: object) => Buffer.from(res.encode(m).finish()),
        responseDeserialize: (b: Buffer) => res.decode(b) as object,
        originalName: 'export',
      },
    };
    this.grpcServer.addService(definition, {
      Export: (call: grpc.ServerUnaryCall<object, object>, done: grpc.sendUnaryData<object>) => {
        if (this.unavailable) return done({ code: grpc.status.UNAVAILABLE, details: 'otlp sink is down' });
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(call.metadata.getMap())) headers[k.toLowerCase()] = String(v);
        this.store({ signal, transport: 'grpc', headers, authority: call.getHost() }, req.toObject(call.request as protobuf.Message, TO_OBJECT));
        done(null, res.create({}));
      },
    });
  }

  private onHttp(req: IncomingMessage, res: ServerResponse): void {
    const signal: Signal | undefined = req.url === '/v1/metrics' ? 'metrics' : req.url === '/v1/logs' ? 'logs' : undefined;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (!signal || req.method !== 'POST') {
        res.writeHead(404).end();
        return;
      }
      if (this.unavailable) {
        res.writeHead(503, { 'content-type': 'text/plain' }).end('otlp sink is down');
        return;
      }
      let raw = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') raw = gunzipSync(raw);
      const { req: codec, res: resCodec } = CODECS[signal];
      const json = String(req.headers['content-type'] ?? '').startsWith('application/json');
      const msg = json ? codec.fromObject(JSON.parse(raw.toString('utf8')) as object) : codec.decode(raw);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) headers[k] = Array.isArray(v) ? v.join(',') : String(v);
      const servername = (req.socket as Partial<TLSSocket>).servername;
      const meta = { signal, transport: json ? 'http/json' : 'http/protobuf', headers, authority: req.headers.host ?? '' } as const;
      this.store({ ...meta, ...(typeof servername === 'string' ? { servername } : {}) }, codec.toObject(msg, TO_OBJECT));
      if (json) res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      else res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end(Buffer.from(resCodec.encode(resCodec.create({})).finish()));
    });
  }

  private store(meta: Omit<SinkRequest, 'body'>, body: Record<string, unknown>): void {
    const signal = meta.signal;
    this.requests.push({ ...meta, body });
    const seq = ++this.seq;
    if (signal === 'metrics') {
      for (const rm of (body.resourceMetrics as Record<string, any>[] | undefined) ?? []) {
        this.lastResource = attrsOf(rm.resource?.attributes);
        for (const sm of rm.scopeMetrics ?? []) for (const m of sm.metrics ?? []) this.storeMetric(m, seq);
      }
    } else {
      for (const rl of (body.resourceLogs as Record<string, any>[] | undefined) ?? []) {
        const resource = attrsOf(rl.resource?.attributes);
        this.lastResource = resource;
        for (const sl of rl.scopeLogs ?? []) {
          for (const r of sl.logRecords ?? []) {
            const t = Number(r.timeUnixNano ?? 0);
            this.records.push({
              eventName: r.eventName,
              timeUnixNano: t,
              timeUnixMs: Math.round(t / 1e6),
              observedTimeUnixNano: Number(r.observedTimeUnixNano ?? 0),
              severityNumber: r.severityNumber,
              severityText: r.severityText,
              body: anyValue(r.body),
              attributes: attrsOf(r.attributes),
              resource,
              scope: sl.scope?.name ?? '',
            });
          }
        }
      }
    }
  }

  private storeMetric(m: Record<string, any>, seq: number): void {
    const base = { metric: m.name as string, unit: (m.unit ?? '') as string, description: (m.description ?? '') as string, seq };
    const data = m.sum ?? m.gauge ?? m.histogram ?? m.exponentialHistogram;
    const type = m.sum ? 'sum' : m.gauge ? 'gauge' : m.histogram ? 'histogram' : m.exponentialHistogram ? 'exponential_histogram' : undefined;
    if (!data || !type) return;
    for (const p of data.dataPoints ?? []) {
      this.points.push({
        ...base,
        type,
        monotonic: data.isMonotonic === true,
        temporality: data.aggregationTemporality ?? 0,
        attributes: attrsOf(p.attributes),
        timeUnixNano: Number(p.timeUnixNano ?? 0),
        startTimeUnixNano: Number(p.startTimeUnixNano ?? 0),
        value: Number(p.asInt ?? p.asDouble ?? 0),
        count: Number(p.count ?? 0),
        sum: Number(p.sum ?? 0),
        bucketCounts: (p.bucketCounts ?? p.positive?.bucketCounts ?? []).map(Number),
        explicitBounds: (p.explicitBounds ?? []).map(Number),
        scale: Number(p.scale ?? 0),
        zeroCount: Number(p.zeroCount ?? 0),
        offset: Number(p.positive?.offset ?? 0),
      });
    }
  }

  /** Forget everything received so far (a benchmark's next run starts counting from nothing). */
  clear(): void {
    this.requests.length = 0;
    this.points.length = 0;
    this.records.length = 0;
  }

  /** Every point of a metric received so far, oldest first. */
  pointsOf(metric: string): SinkPoint[] {
    return this.points.filter((p) => p.metric === metric);
  }

  /** Names of every metric received so far. */
  metricNames(): string[] {
    return [...new Set(this.points.map((p) => p.metric))].sort();
  }

  /** The newest point of every series of a metric whose attributes match `filter`. */
  latest(metric: string, filter?: Attrs): SinkPoint[] {
    const bySeries = new Map<string, SinkPoint>();
    for (const p of this.points) if (p.metric === metric && matches(p.attributes, filter)) bySeries.set(seriesKey(p.attributes), p);
    return [...bySeries.values()];
  }

  /** Sum across matching series of their latest cumulative value (delta points are added up). */
  sumOf(metric: string, filter?: Attrs): number {
    const pts = this.points.filter((p) => p.metric === metric && matches(p.attributes, filter));
    if (pts.some((p) => p.temporality === 1)) return pts.reduce((a, p) => a + p.value, 0);
    return this.latest(metric, filter).reduce((a, p) => a + p.value, 0);
  }

  /** Latest histogram state merged across matching series. */
  histogram(metric: string, filter?: Attrs): { count: number; sum: number; bucketCounts: number[]; explicitBounds: number[]; unit: string } | undefined {
    const pts = this.latest(metric, filter).filter((p) => p.type === 'histogram');
    if (pts.length === 0) return undefined;
    const bucketCounts = new Array<number>(pts[0].bucketCounts.length).fill(0);
    for (const p of pts) p.bucketCounts.forEach((c, i) => (bucketCounts[i] += c));
    return {
      count: pts.reduce((a, p) => a + p.count, 0),
      sum: pts.reduce((a, p) => a + p.sum, 0),
      bucketCounts,
      explicitBounds: pts[0].explicitBounds,
      unit: pts[0].unit,
    };
  }

  logs(filter: { eventName?: string } = {}): SinkLogRecord[] {
    return this.records.filter((r) => filter.eventName === undefined || r.eventName === filter.eventName);
  }

  /** Resource attributes of the newest request. */
  resource(): Attrs {
    return this.lastResource;
  }

  async waitFor(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`otlp sink: condition not met within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** The collector goes away: its gRPC port closes, open connections are cut (the HTTP one stays). */
  down(): void {
    this.grpcServer.forceShutdown();
  }

  /** The collector is back on the same gRPC port. */
  async up(): Promise<void> {
    this.grpcServer = new grpc.Server();
    for (const signal of ['metrics', 'logs'] as const) this.addGrpcService(signal);
    await new Promise<number>((resolve, reject) =>
      this.grpcServer.bindAsync(`127.0.0.1:${this.grpcPort}`, grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))),
    );
  }

  async stop(): Promise<void> {
    this.grpcServer.forceShutdown();
    this.httpServer.closeAllConnections();
    await new Promise<void>((resolve) => this.httpServer.close(() => resolve()));
  }
}
