// The OTLP sink (test/helpers/otlp-sink.ts) in a process of its own, so that decoding what the
// agent exports costs the agent's process nothing. Started with fork(); answers queries over IPC.
import { OtlpSink, type Attrs } from '../helpers/otlp-sink';

export type SinkQuery =
  | { id: number; op: 'sumOf'; metric: string; attrs?: Attrs }
  | { id: number; op: 'logCount'; eventName?: string }
  | { id: number; op: 'metricNames' }
  | { id: number; op: 'clear' };

if (require.main === module) {
  void (async () => {
    const sink = await OtlpSink.start();
    process.on('message', (q: SinkQuery) => {
      let value: unknown;
      switch (q.op) {
        case 'sumOf':
          value = sink.sumOf(q.metric, q.attrs);
          break;
        case 'logCount':
          value = sink.logs({ eventName: q.eventName }).length;
          break;
        case 'metricNames':
          value = sink.metricNames();
          break;
        case 'clear':
          sink.clear();
          value = true;
          break;
      }
      process.send!({ id: q.id, value });
    });
    process.on('disconnect', () => void sink.stop().then(() => process.exit(0)));
    process.send!({ ready: true, grpc: sink.grpcEndpoint, http: sink.httpEndpoint });
  })();
}
