// An sni receiver with `interfaces: all`, run inside a test's network namespace (so `all` means that
// namespace's interfaces, never the host's). Usage: node sni-all.js <port>...; prints JSON lines:
// {ready, interfaces}, then {event} per dispatched event and {interfaces} whenever the set changes.
import { parseConfig } from '../../src/config';
import type { SniReceiverConfig } from '../../src/receivers/sni/config';
import { Enricher } from '../../src/enrich/enricher';
import { SniReceiver } from '../../src/receivers/sni/receiver';

process.title = 'nws-sni-all';
const ports = process.argv.slice(2).join(', ');
const cfg = parseConfig(
  `receivers:\n  sni:\n    interfaces: all\n    rescan_interval: 200ms\n    ports: [${ports}]\n    poll_interval: 5ms\n` +
    'exporters:\n  debug:\nservice:\n  pipelines:\n    metrics:\n      receivers: [sni]\n      exporters: [debug]\n',
  'sni-all',
  {},
);
const out = (o: object): void => void process.stdout.write(JSON.stringify(o) + '\n');
const enricher = new Enricher();
const r = new SniReceiver('sni', cfg.receivers.sni as SniReceiverConfig, {
  enricher,
  dispatch: (ev) => {
    if (ev.source === 'sni')
      out({ event: { kind: ev.kind, serverName: ev.serverName, direction: ev.direction, interfaceName: ev.interfaceName, networkType: ev.networkType } });
  },
  shared: () => ({}),
});
r.start();
let last = r.interfaces().sort().join(',');
out({ ready: true, interfaces: last.split(',') });
setInterval(() => {
  const now = r.interfaces().sort().join(',');
  if (now !== last) out({ interfaces: now.split(',') });
  last = now;
}, 50);
process.on('SIGTERM', () => {
  r.stop();
  enricher.close();
  process.exit(0);
});
