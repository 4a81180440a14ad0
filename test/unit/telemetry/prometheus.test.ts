import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { test } from 'node:test';
import { createTelemetry } from '../../../src/telemetry/sdk';
import { agentConfig, outboundLifecycle } from './fixtures';
import { withKernelCounts } from '../../helpers/kernel-counts';

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

test('the prometheus exporter serves counters and the pre-bucketed histograms on its port', async () => {
  const port = await freePort();
  const t = createTelemetry(agentConfig({ exporters: [{ type: 'prometheus', id: 'prometheus', host: '127.0.0.1', port }], signals: ['metrics'] }));
  try {
    for (const ev of withKernelCounts(outboundLifecycle())) t.sinkFor('metrics').consume(ev);
    let text = '';
    for (let i = 0; i < 50 && !text; i++) {
      text = await fetch(`http://127.0.0.1:${port}/metrics`).then(
        (r) => r.text(),
        () => '',
      );
      if (!text) await new Promise((r) => setTimeout(r, 20));
    }
    assert.match(text, /netwatch_connection_opened_total\{[^}]*process_executable_name="curl"[^}]*\} 1/);
    assert.match(text, /netwatch_connection_duration_count\{[^}]*\} 1/);
  } finally {
    await t.shutdown();
  }
});
