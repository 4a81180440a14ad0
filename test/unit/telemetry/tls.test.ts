import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { ExporterConfig, TlsSettings } from '../../../src/config/types';
import { createTelemetry } from '../../../src/telemetry/sdk';
import { OtlpSink, selfSignedCert } from '../../helpers/otlp-sink';
import { agentConfig, otlpGrpc, otlpHttp, outboundLifecycle } from './fixtures';

// The collector double's certificate names only this host, never 127.0.0.1, where it listens.
const NAME = 'collector.test';
const TLS: TlsSettings = { insecure: false, insecure_skip_verify: false, ca_file: '', cert_file: '', key_file: '', server_name_override: '' };

let dir: string;
let cert: ReturnType<typeof selfSignedCert>;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'netwatch-tls-'));
  cert = selfSignedCert(dir, NAME);
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Sends one connection's metrics and log records through `exporter` and returns what the sink received. */
async function exportTo(exporter: (s: OtlpSink) => ExporterConfig): Promise<OtlpSink['requests']> {
  const s = await OtlpSink.start({ tls: { key: cert.key, cert: cert.cert } });
  try {
    const t = createTelemetry(agentConfig({ exporters: [exporter(s)] }), { shutdownTimeoutMs: 3000 });
    for (const ev of outboundLifecycle()) {
      t.sinkFor('metrics').consume(ev);
      t.sinkFor('logs').consume(ev);
    }
    await t.forceFlush();
    await t.shutdown();
    return s.requests;
  } finally {
    await s.stop();
  }
}

const grpcTls = (tls: Partial<TlsSettings>) => (s: OtlpSink) => otlpGrpc(s.grpcEndpoint, { tls: { ...TLS, ...tls } });
const httpTls = (tls: Partial<TlsSettings>) => (s: OtlpSink) => otlpHttp(s.httpEndpoint, 'proto', { tls: { ...TLS, ...tls } });
const signals = (rs: OtlpSink['requests']) => [...new Set(rs.map((r) => r.signal))].sort();

test('the otlp (gRPC) exporter with insecure_skip_verify exports to a collector with a self-signed certificate', async () => {
  assert.deepEqual(signals(await exportTo(grpcTls({ insecure_skip_verify: true }))), ['logs', 'metrics']);
});

test('the otlphttp exporter with insecure_skip_verify exports to a collector with a self-signed certificate', async () => {
  assert.deepEqual(signals(await exportTo(httpTls({ insecure_skip_verify: true }))), ['logs', 'metrics']);
});

test('without insecure_skip_verify or a CA, a self-signed collector is refused (gRPC and HTTP)', async () => {
  assert.deepEqual(await exportTo(grpcTls({})), []);
  assert.deepEqual(await exportTo(httpTls({})), []);
});

test('over gRPC, server_name_override is the name verified against ca_file and the :authority sent', async () => {
  assert.deepEqual(await exportTo(grpcTls({ ca_file: cert.certFile })), [], 'the certificate does not name 127.0.0.1');
  const rs = await exportTo(grpcTls({ ca_file: cert.certFile, server_name_override: NAME }));
  assert.deepEqual(signals(rs), ['logs', 'metrics']);
  assert.deepEqual([...new Set(rs.map((r) => r.authority))], [NAME]);
});

test('over HTTP, server_name_override is the name verified against ca_file and sent as SNI', async () => {
  assert.deepEqual(await exportTo(httpTls({ ca_file: cert.certFile })), [], 'the certificate does not name 127.0.0.1');
  const rs = await exportTo(httpTls({ ca_file: cert.certFile, server_name_override: NAME }));
  assert.deepEqual(signals(rs), ['logs', 'metrics']);
  assert.deepEqual([...new Set(rs.map((r) => r.servername))], [NAME]);
});
