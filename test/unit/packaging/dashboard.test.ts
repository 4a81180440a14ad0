// otel/dashboards/netwatch.json is a Grafana dashboard whose every query names metrics and labels
// of the catalogue, under the names the agent's prometheus exporter serves (checked against the
// exporter itself), so that a rename in otel/catalogue.yaml fails here until the dashboard follows.
// That each query parses and finds series in a real Prometheus: test/e2e/dashboard.test.ts.
import assert from 'node:assert/strict';
import { withKernelCounts } from '../../helpers/kernel-counts';
import { test } from 'node:test';
import { prometheusName } from '../../../otel/catalogue';
import { METRIC, METRICS } from '../../../src/catalogue/generated';
import { createTelemetry } from '../../../src/telemetry/sdk';
import {
  dataPanels,
  panelQueries,
  PROMETHEUS_LABELS,
  prometheusCatalogue,
  prometheusLabels,
  promqlNames,
  readDashboard,
  RESOURCE_LABELS,
  RESOURCE_SERIES,
  toPromQL,
  variableQuery,
  labelValuesCall,
} from '../../helpers/dashboard';
import { freePort } from '../../helpers/ports';
import { agentConfig, connEvent, newSock, outboundLifecycle } from '../telemetry/fixtures';

const dash = readDashboard();
const DS = { type: 'prometheus', uid: '${DS_PROMETHEUS}' };
const templateVariables = dash.templating.list.map((v) => v.name);
const catalogue = prometheusCatalogue();

/** Every PromQL the dashboard runs: panel queries, and the selectors of its query variables. */
function everyQuery(): { where: string; expr: string }[] {
  const panels = panelQueries(dash).map((q) => ({ where: `panel "${q.panel}" query ${q.refId}`, expr: q.expr }));
  const variables = dash.templating.list
    .filter((v) => v.type === 'query')
    .map((v) => {
      const call = labelValuesCall(variableQuery(v));
      assert.ok(call, `variable ${v.name}: label_values(<selector>, <label>), got ${variableQuery(v)}`);
      return { where: `variable ${v.name}`, expr: call.selector };
    });
  return [...panels, ...variables];
}

test('the dashboard is a Grafana dashboard on a Prometheus data source chosen by the ${DS_PROMETHEUS} variable', () => {
  assert.equal(dash.uid, 'netwatch');
  assert.equal(dash.title, 'netwatch');
  assert.ok(dash.schemaVersion >= 39, `schemaVersion ${dash.schemaVersion}`);
  const ds = dash.templating.list.find((v) => v.name === 'DS_PROMETHEUS');
  assert.deepEqual([ds?.type, ds?.query], ['datasource', 'prometheus']);
  for (const v of dash.templating.list.filter((x) => x.type === 'query'))
    assert.deepEqual((v as { datasource?: unknown }).datasource, DS, `variable ${v.name}`);
  for (const p of dash.panels) assert.equal(typeof p.id, 'number');
  assert.equal(new Set(dash.panels.map((p) => p.id)).size, dash.panels.length, 'panel ids are unique');
});

test('every panel has a title, a description, the data source and at least one query, each with its own refId', () => {
  for (const p of dataPanels(dash)) {
    assert.ok(p.title.trim(), `panel ${p.id} has a title`);
    assert.ok(p.description?.trim(), `panel "${p.title}" says what it shows`);
    assert.deepEqual(p.datasource, DS, `panel "${p.title}"`);
    const targets = p.targets ?? [];
    assert.ok(targets.length > 0, `panel "${p.title}" has a query`);
    for (const t of targets) {
      assert.ok(t.expr.trim(), `panel "${p.title}" query ${t.refId} is not empty`);
      assert.deepEqual(t.datasource, DS, `panel "${p.title}" query ${t.refId}`);
    }
    assert.equal(new Set(targets.map((t) => t.refId)).size, targets.length, `panel "${p.title}": refIds are unique`);
  }
  assert.equal(new Set(dataPanels(dash).map((p) => p.title)).size, dataPanels(dash).length, 'titles are unique (the end-to-end test names panels by title)');
});

test('no two panels overlap on the 24-column grid', () => {
  const cells = new Map<string, string>();
  for (const p of dash.panels) {
    const { x, y, w, h } = p.gridPos;
    assert.ok(x >= 0 && w > 0 && x + w <= 24, `panel "${p.title}" fits the grid`);
    for (let i = x; i < x + w; i++)
      for (let j = y; j < y + h; j++) {
        const other = cells.get(`${i},${j}`);
        assert.equal(other, undefined, `panels "${other}" and "${p.title}" overlap at ${i},${j}`);
        cells.set(`${i},${j}`, p.title);
      }
  }
});

test("every metric a query names is the catalogue's, as the prometheus exporter names it, and enabled by default", () => {
  for (const { where, expr } of everyQuery()) {
    const { metrics } = promqlNames(toPromQL(expr, templateVariables));
    assert.ok(metrics.length > 0, `${where} names a metric`);
    for (const name of metrics) {
      if (name === RESOURCE_SERIES) continue;
      const m = catalogue.get(name);
      assert.ok(m, `${where}: ${name} is not a metric of otel/catalogue.yaml (as Prometheus names them: ${[...catalogue.keys()].join(', ')})`);
      assert.ok(m.enabled, `${where}: ${m.name} is off by default`);
    }
  }
});

test('every label a query names is an attribute of a metric it names, or job, instance or le', () => {
  for (const { where, expr } of everyQuery()) {
    const { metrics, labels } = promqlNames(toPromQL(expr, templateVariables));
    const known = new Set<string>([
      ...PROMETHEUS_LABELS,
      ...metrics.flatMap((n) => {
        const m = catalogue.get(n);
        return n === RESOURCE_SERIES ? [...RESOURCE_LABELS] : m ? prometheusLabels(m) : [];
      }),
    ]);
    for (const l of labels) assert.ok(known.has(l), `${where}: label ${l} is not an attribute of ${metrics.join(', ')}`);
  }
});

test("template variables appear only as =~ matchers, and Grafana's time variables only in ranges", () => {
  for (const { where, expr } of everyQuery()) {
    const rest = expr
      .replace(/[a-z_]+=~"\$(\w+)"/g, (whole, name: string) => (templateVariables.includes(name) ? '' : whole))
      .replace(/\[\$(__rate_interval|__interval|__range)\]/g, '');
    assert.doesNotMatch(rest, /\$/, `${where}: a variable outside a =~ matcher or a range`);
    assert.doesNotThrow(() => toPromQL(expr, templateVariables), where);
  }
  assert.throws(() => toPromQL('up{job=~"$nope"}', templateVariables), /unknown Grafana variable \$nope/);
});

test("heatmaps show a histogram's buckets, summed by le, in heatmap format", () => {
  const heatmaps = dataPanels(dash).filter((p) => p.type === 'heatmap');
  assert.ok(heatmaps.length >= 2);
  for (const p of heatmaps) {
    for (const t of p.targets!) {
      assert.equal(t.format, 'heatmap', `panel "${p.title}"`);
      assert.match(t.expr, /^sum by \(le\) \((rate|increase)\(\w+_bucket\{[^}]*\}\[\$__rate_interval\]\)\)$/, `panel "${p.title}"`);
      const [name] = promqlNames(toPromQL(t.expr, templateVariables)).metrics;
      assert.equal(catalogue.get(name!)?.instrument, 'histogram', `panel "${p.title}"`);
    }
  }
});

test('it shows connections by process, container and Nomad job, failures, states, bytes, RTT and duration, drops, resets, SNI, wakes and sleeps, and the agent', () => {
  const shown = new Set(
    everyQuery()
      .flatMap(({ expr }) => promqlNames(toPromQL(expr, templateVariables)).metrics)
      .map((n) => catalogue.get(n)?.name),
  );
  const wanted = [
    METRIC.CONNECTION_OPENED,
    METRIC.CONNECTION_FAILED,
    METRIC.CONNECTION_ACTIVE,
    METRIC.CONNECTION_STATE_TRANSITIONS,
    METRIC.CONNECTION_IO,
    METRIC.CONNECTION_RTT,
    METRIC.CONNECTION_DURATION,
    METRIC.PACKET_DROPS,
    METRIC.TCP_RESETS,
    METRIC.TCP_RETRANSMITS,
    METRIC.TLS_CLIENT_HELLOS,
    METRIC.TLS_CLIENT_HELLO_REJECTIONS,
    METRIC.NOMAD_AUTOSTART_WAKES,
    METRIC.NOMAD_AUTOSTART_SLEEPS,
    METRIC.AGENT_EVENTS_READ,
    METRIC.AGENT_EVENTS_LOST,
    METRIC.OTEL_SDK_EXPORTER_METRIC_DATA_POINT_EXPORTED,
    METRIC.OTEL_SDK_EXPORTER_LOG_EXPORTED,
  ];
  assert.deepEqual(
    wanted.filter((m) => !shown.has(m)),
    [],
  );
  const grouped = (metric: string, label: string): boolean =>
    panelQueries(dash).some((q) => {
      const n = promqlNames(toPromQL(q.expr, templateVariables));
      return n.metrics.includes(metric) && n.labels.includes(label);
    });
  for (const label of ['process_executable_name', 'container_id', 'netwatch_nomad_job'])
    assert.ok(grouped('netwatch_connection_opened_total', label), `connections by ${label}`);
  assert.ok(grouped('netwatch_connection_failed_total', 'error_type'), 'failures by error');
  assert.ok(grouped('netwatch_packet_drops_total', 'netwatch_drop_reason'), 'drops by reason');
  assert.ok(grouped('netwatch_tls_client_hellos_total', 'server_address'), 'ClientHellos by server name');
});

test('the lexer finds the metric and the labels of a query, and a renamed metric is not in the catalogue', () => {
  assert.deepEqual(promqlNames('sum by (le) (rate(netwatch_connection_rtt_bucket{job=~".*",instance=~".*"}[1m]))'), {
    metrics: ['netwatch_connection_rtt_bucket'],
    labels: ['le', 'job', 'instance'],
  });
  assert.deepEqual(promqlNames('histogram_quantile(0.99, sum by (le, x) (rate(a_bucket[5m]))) or b{c!="1e-9"} * on (d) group_left (e) f offset 1m'), {
    metrics: ['a_bucket', 'b', 'f'],
    labels: ['le', 'x', 'c', 'd', 'e'],
  });
  assert.equal(catalogue.get('netwatch_connection_bytes_sent_total'), undefined, 'replaced by netwatch.connection.io');
  assert.equal(catalogue.get('netwatch_connection_io_total')?.name, METRIC.CONNECTION_IO);
  assert.equal(catalogue.get('netwatch_connection_active')?.name, METRIC.CONNECTION_ACTIVE, 'an up-down counter is a gauge: no _total');
  assert.equal(catalogue.get('netwatch_connection_duration_bucket')?.name, METRIC.CONNECTION_DURATION, 'no _seconds suffix');
  assert.equal(prometheusName('otel.sdk.exporter.metric_data_point.exported'), 'otel_sdk_exporter_metric_data_point_exported');
});

test('the names the catalogue is translated to are the names the prometheus exporter serves', async () => {
  const port = await freePort('127.0.0.1');
  const t = createTelemetry(agentConfig({ exporters: [{ type: 'prometheus', id: 'prometheus', host: '127.0.0.1', port }], signals: ['metrics'] }));
  try {
    // The records and the counter rows the kernel would hand over for them (metrics come from the rows).
    const events = [...outboundLifecycle(), connEvent({ sock: newSock(), kind: 'close', oldState: 'syn_sent', newState: 'closed', error: 111 })];
    for (const ev of withKernelCounts(events)) t.sinkFor('metrics').consume(ev);
    let text = '';
    for (let i = 0; i < 50 && !text.includes('netwatch_connection_failed'); i++) {
      text = await fetch(`http://127.0.0.1:${port}/metrics`).then(
        (r) => r.text(),
        () => '',
      );
      if (!text.includes('netwatch_connection_failed')) await new Promise((r) => setTimeout(r, 20));
    }
    const served = [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => ({ name: m[1]!, type: m[2]! }));
    const kinds = new Set(served.map((s) => s.type));
    assert.ok(
      ['counter', 'gauge', 'histogram'].every((k) => kinds.has(k)),
      `a counter, a gauge and a histogram are served: ${[...kinds].join(', ')}`,
    );
    for (const { name, type } of served) {
      if (name === RESOURCE_SERIES) {
        for (const l of ['host_name', 'service_instance_id', 'service_name'])
          assert.match(text, new RegExp(`^target_info\\{[^}]*\\b${l}="`, 'm'), `target_info carries ${l}`);
        continue;
      }
      const series = type === 'histogram' ? `${name}_bucket` : name;
      const m = catalogue.get(series);
      assert.ok(m, `${series} (${type}) is a translated catalogue name`);
      assert.equal(type, { counter: 'counter', updowncounter: 'gauge', gauge: 'gauge', histogram: 'histogram' }[m.instrument], `${series}`);
      const labels = [...text.matchAll(new RegExp(`^${series}\\{([^}]*)\\}`, 'gm'))].flatMap((x) => [...x[1]!.matchAll(/(\w+)="/g)].map((y) => y[1]!));
      const allowed = new Set([...prometheusLabels(m), 'le', 'otel_scope_name', 'otel_scope_version', 'otel_scope_schema_url']);
      for (const l of labels) assert.ok(allowed.has(l), `${series}: label ${l} is a translated attribute`);
    }
    assert.ok(served.some((s) => catalogue.get(s.name)?.name === METRIC.CONNECTION_FAILED));
    assert.ok(Object.keys(METRICS).length > served.length, 'only some metrics are served here; the end-to-end test sees the rest');
  } finally {
    await t.shutdown();
  }
});
