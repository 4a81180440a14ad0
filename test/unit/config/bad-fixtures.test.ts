import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { test } from 'node:test';
import { loadConfigFile } from '../../../src/config';
import { ConfigError } from '../../../src/errors';
import { repoPath } from '../../helpers/paths';

const BAD = repoPath('test', 'fixtures', 'config', 'bad');
const ENV = {}; // fixtures must not depend on the environment of whoever runs the tests

/** Each bad fixture shows one mistake (several-errors-at-once shows that all are reported together). */
const EXPECTED: Record<string, string[]> = {
  'unknown-top-level-key.yaml': ['extensions: unknown top-level key; netwatch has no extensions; valid keys here: receivers, processors, exporters, service'],
  'typo-in-receiver-key.yaml': [
    'receivers.connections.ring_bufer_size: unknown key (did you mean "ring_buffer_size"?); valid keys here: ring_buffer_size, poll_interval, wakeup_bytes, interval, table_size, include_self, seed_existing, include, metrics, events, rtt_buckets_us, logs',
  ],
  'unknown-exporter-type.yaml': ['exporters.otlpp: unknown exporter type "otlpp" (known: debug, otlp, otlp_grpc, otlp_http, otlphttp, prometheus)'],
  'pipeline-references-undefined-exporter.yaml': ['service.pipelines.metrics.exporters: "otlp/backup" is not defined under exporters (defined: debug, otlp)'],
  'ring-buffer-not-power-of-two.yaml': [
    "receivers.connections.ring_buffer_size: must be a power of two (the kernel's BPF ring buffer requires it), got 5000000; the nearest are 4194304 or 8388608",
  ],
  'bad-cidr-in-filter.yaml': ['processors.filter/internal.exclude[0].cidrs[1]: "10.0.0.0/33": the prefix length must be a number from 0 to 32 for IPv4'],
  'wakeup-bytes-not-below-ring-size.yaml': ['receivers.connections.wakeup_bytes: must be smaller than ring_buffer_size (1048576), got 1048576'],
  'wakeup-bytes-not-auto.yaml': ['receivers.connections.wakeup_bytes: must be auto or a whole number of bytes (0 or more), got "soon"'],
  'bad-duration.yaml': ['receivers.connections.poll_interval: must be a duration with a unit, such as 10s, 1m30s or 500ms; got "10 milliseconds"'],
  'duration-without-unit.yaml': ['service.telemetry.metrics.export_interval: must be a duration with a unit, such as 10s, 1m30s or 500ms; got "60"'],
  'prometheus-in-logs-pipeline.yaml': ['service.pipelines.logs.exporters: "prometheus" can only export metrics; list it in a metrics pipeline'],
  'pipeline-without-exporter.yaml': ['service.pipelines.logs.exporters: a pipeline needs at least one exporter'],
  'traces-pipeline.yaml': [
    'service.pipelines.traces: netwatch produces metrics and logs, not traces; pipeline ids are metrics, logs, metrics/<name> or logs/<name>',
  ],
  'no-pipelines.yaml': [
    'service.pipelines: no pipelines are defined; add at least one (pipeline ids are metrics, logs, metrics/<name> or logs/<name>), each with receivers and exporters',
  ],
  'empty-component-name.yaml': [
    'exporters.otlp/: invalid component id "otlp/": the name after "/" is empty; ids are type or type/name, e.g. otlp or otlp/backup',
  ],
  'yes-is-not-a-boolean.yaml': ['receivers.connections.seed_existing: must be true or false, got "yes"'],
  'sampling-ratio-above-one.yaml': ['receivers.connections.logs.sampling_ratio: must be a number greater than 0 and at most 1 (1 keeps every record), got 1.5'],
  'unknown-metric-name.yaml': [
    'receivers.connections.metrics.netwatch.connection.opend: unknown metric "netwatch.connection.opend" for this receiver (known: netwatch.connection.opened, netwatch.connection.active, netwatch.connection.state_transitions, netwatch.connection.duration, netwatch.connection.io, netwatch.connection.rtt, netwatch.connection.failed)',
  ],
  'rtt-buckets-not-increasing.yaml': [
    'receivers.connections.rtt_buckets_us[2]: must be greater than the boundary before it (100), got 100',
    'receivers.connections.rtt_buckets_us[3]: must be a whole number of microseconds from 1 to 60000000, got 50.5',
    'receivers.connections.rtt_buckets_us[4]: must be a whole number of microseconds from 1 to 60000000, got 0',
  ],
  'rtt-buckets-differ-in-one-pipeline.yaml': [
    'receivers.connections/second.rtt_buckets_us: differs from receivers.connections.rtt_buckets_us, and both feed pipeline "metrics": they share its metric tables (a histogram has one bucket layout); give them the same value, or put them in different metrics pipelines',
  ],
  'renamed-metric-name.yaml': [
    'receivers.connections.metrics.netwatch.connection.bytes_sent: metric "netwatch.connection.bytes_sent" is no longer emitted: use netwatch.connection.io; The unit was in the name; the conventions count bytes in one `*.io` counter by `network.io.direction`: this is `netwatch.connection.io{network.io.direction=transmit}`.',
  ],
  'metric-switch-without-enabled.yaml': ['receivers.connections.metrics.netwatch.connection.duration: must be a mapping such as {enabled: false}, got false'],
  'exclude-rule-that-matches-everything.yaml': [
    'processors.filter.exclude[0]: an empty rule matches every event (so everything would be dropped); give at least one of process, container_id, container_runtime, nomad_job, ports, cidrs, direction, transport',
  ],
  'rules-not-a-list.yaml': ['processors.filter.include: must be a list of rules; start each rule with "- " (a list item)'],
  'filter-rule-that-is-not-a-mapping.yaml': [
    'processors.filter.exclude[0]: must be a rule (a mapping) such as {process: [curl]}, got "curl"',
    'processors.filter.exclude[1]: an empty rule matches every event (so everything would be dropped); give at least one of process, container_id, container_runtime, nomad_job, ports, cidrs, direction, transport',
  ],
  'insecure-with-https-endpoint.yaml': [
    'exporters.otlp.tls.insecure: is true, but the endpoint "https://collector.example.com:4317" asks for TLS; change the endpoint to http:// or remove tls.insecure',
  ],
  'otlphttp-endpoint-without-scheme.yaml': [
    'exporters.otlphttp.endpoint: must be an http:// or https:// URL such as http://collector:4318, got "collector:4318"',
  ],
  'prometheus-endpoint-and-port.yaml': [
    'exporters.prometheus.endpoint: is given together with host or port; give either endpoint (host:port) or host and port',
  ],
  'prometheus-endpoint-without-port.yaml': ['exporters.prometheus.endpoint: must be host:port such as 0.0.0.0:8889 (or [::1]:8889), got "0.0.0.0"'],
  'otlp-grpc-retry-on-failure.yaml': [
    'exporters.otlp_grpc.retry_on_failure: unknown key; netwatch keeps no retry queue: failed exports are counted and reported in /health, OTLP/HTTP retries a retryable failure with backoff within timeout, and cumulative metrics (the default) lose nothing, as the next interval sends their totals; remove it (give one export longer with timeout); valid keys here: endpoint, tls, headers, compression, timeout, histogram_aggregation',
  ],
  'otlp-http-sending-queue.yaml': [
    "exporters.otlp_http.sending_queue: unknown key; netwatch's queues are fixed: log records wait in one bounded queue per exporter (2048; the excess is counted in otel.sdk.processor.log.processed with error.type=queue_full) and metrics are read afresh each interval; remove it (lower the receivers' logs.max_per_second to send less); valid keys here: endpoint, tls, headers, compression, timeout, histogram_aggregation, encoding, metrics_endpoint, logs_endpoint",
  ],
  'otlp-http-metrics-endpoint-without-scheme.yaml': [
    'exporters.otlp_http.metrics_endpoint: must be an http:// or https:// URL such as http://collector:4318, got "collector:4318/v1/metrics"',
  ],
  'unquoted-env-in-flow-mapping.yaml': [
    'line 4, column 21: invalid YAML: Unexpected flow-map-start at node end; a ${...} inside { } or [ ] must be quoted, e.g. "${env:NAME}"',
  ],
  'nomad-rule-without-trigger.yaml': [
    'processors.nomad_autostart.rules[0]: has no trigger; give at least one of match.sni, match.syn_to_port, match.connect_to',
  ],
  'nomad-wildcard-in-the-middle.yaml': [
    'processors.nomad_autostart.rules[0].match.sni[0]: "app.*.example.com": a wildcard is only allowed as the whole first label, as in "*.example.com"',
  ],
  'nomad-sni-with-trailing-dot.yaml': [
    'processors.nomad_autostart.rules[0].match.sni[0]: "app.example.com.": remove the trailing dot (ClientHello server names never have one)',
  ],
  'nomad-server-version-not-a-version.yaml': [
    'processors.nomad_autostart.server_version: must be a Nomad version such as 2.0.5 or 1.9.3+ent (as nomad version prints it), or empty; got "latest"',
  ],
  'nomad-wait-for-ready.yaml': ['processors.nomad_autostart.rules[0].wait_for: must be one of running, healthy, none; got "ready"'],
  'nomad-address-without-scheme.yaml': [
    'processors.nomad_autostart.address: must be an http:// or https:// URL such as http://127.0.0.1:4646, got "nomad.service.consul:4646"',
  ],
  'nomad-duplicate-rule-names.yaml': ['processors.nomad_autostart.rules[1].name: "web" is already the name of rules[0]; rule names must be unique'],
  'nomad-rule-without-job-and-group.yaml': [
    'processors.nomad_autostart.rules[0].job: is required: the Nomad job this rule wakes',
    'processors.nomad_autostart.rules[0].group: is required: the task group of the job to scale',
  ],
  'nomad-client-cert-without-key.yaml': [
    'processors.nomad_autostart.tls.client_key: is required when tls.client_cert is set (a client certificate needs its key)',
  ],
  'nomad-connect-to-without-port.yaml': ['processors.nomad_autostart.rules[0].match.connect_to[0]: "10.1.0.5": has no port; write "10.1.0.5:PORT"'],
  'nomad-interface-on-connect-rule.yaml': [
    'processors.nomad_autostart.rules[0].match.interface: applies only to sni and syn_to_port triggers (packets seen on an interface); connect_to is seen at the socket, so remove interface or add an sni or syn_to_port trigger',
  ],
  'nomad-count-zero.yaml': ['processors.nomad_autostart.rules[0].count: must be a whole number of at least 1, got 0'],
  'nomad-typo-in-match.yaml': [
    'processors.nomad_autostart.rules[0].match.snis: unknown key (did you mean "sni"?); valid keys here: sni, ports, syn_to_port, connect_to, interface, cidrs, process, container_id, container_runtime, nomad_job, nomad_namespace',
  ],
  'nomad-no-rules.yaml': [
    'processors.nomad_autostart.rules: has no rules; add at least one, e.g. {name: web, match: {sni: [app.example.com]}, job: web, group: web}',
  ],
  'nomad-idle-scale-down-without-idle-after.yaml': [
    'processors.nomad_autostart.rules[0].idle_scale_down: is "any", but idle_after is not set, so nothing is ever scaled down; set idle_after or remove idle_scale_down',
  ],
  'nomad-idle-after-without-unit.yaml': ['processors.nomad_autostart.rules[0].idle_after: must be a duration with a unit, such as 15m, 1h or 30s; got "15"'],
  'sni-interfaces-any-instead-of-all.yaml': ['receivers.sni.interfaces: must be all or a list of interface names such as [any]; got "any"'],
  'sni-port-out-of-range.yaml': ['receivers.sni.ports[1]: must be a port number from 1 to 65535, got 70000'],
  'sni-capture-bytes-above-the-kernel-limit.yaml': ['receivers.sni.capture_bytes: must be from 512 to 16384 bytes, got 65536'],
  'sni-no-ports.yaml': ['receivers.sni.ports: must list at least one port, e.g. [443]'],
  'packet-fate-reason-with-prefix.yaml': [
    'receivers.packet_fate.ignore_reasons[0]: "SKB_DROP_REASON_NOT_SPECIFIED": write the reason without the SKB_DROP_REASON_ prefix, e.g. NOT_SPECIFIED',
  ],
  'packet-fate-lower-case-reason.yaml': [
    'receivers.packet_fate.ignore_reasons[0]: "netfilter_drop" is not a drop reason name: reasons are upper case, as the kernel names them (e.g. NOT_SPECIFIED, NETFILTER_DROP)',
  ],
  'packet-fate-reasons-not-a-list.yaml': ['receivers.packet_fate.ignore_reasons: must be a list of drop reasons, e.g. [NOT_SPECIFIED], got "NOT_SPECIFIED"'],
  'packet-fate-connection-metric-name.yaml': [
    'receivers.packet_fate.metrics.netwatch.connection.opened: unknown metric "netwatch.connection.opened" for this receiver (known: netwatch.packet.drops, netwatch.tcp.resets, netwatch.tcp.retransmits)',
  ],
  'packet-fate-table-too-small.yaml': ['receivers.packet_fate.table_size: must be a whole number from 16 to 1048576, got 8'],
  'packet-fate-negative-samples.yaml': ['receivers.packet_fate.sample_per_interval: must be a whole number (0 or more), got -1'],
  'packet-fate-interval-without-unit.yaml': ['receivers.packet_fate.interval: must be a duration with a unit, such as 10s, 1m30s or 500ms; got "10"'],
  'packet-fate-seed-existing.yaml': [
    'receivers.packet_fate.seed_existing: unknown key; seed_existing is a setting of the connections receiver; valid keys here: ring_buffer_size, poll_interval, interval, sample_per_interval, table_size, ignore_reasons, include, metrics, events',
  ],
  'resource-attribute-with-a-nested-value.yaml': ['service.telemetry.resource: the value of "service.name" must be a single value (text), not a mapping'],
  'header-with-a-dotted-name-and-a-list-value.yaml': ['exporters.otlp.headers: the value of "x.tenant.id" must be a single value (text), not a list'],
  'dotted-key-instead-of-nesting.yaml': [
    'receivers.connections.include.peer_address: unknown key; keys are not split at dots, so nest it: include: {peer_address: ...}; valid keys here: ring_buffer_size, poll_interval, wakeup_bytes, interval, table_size, include_self, seed_existing, include, metrics, events, rtt_buckets_us, logs',
  ],
  'nested-settings-not-a-mapping.yaml': [
    'receivers.connections.include: must be a mapping (key: value lines) with keys among process_pid, peer_address, client_port, got a list',
  ],
  'unknown-key-named-like-a-javascript-method.yaml': [
    'toString: unknown top-level key; valid keys here: receivers, processors, exporters, service',
    'exporters.debug.valueOf: unknown key; valid keys here: verbosity',
  ],
  'server-port-taken-by-prometheus.yaml': [
    'service.server.port: 9465 is also the port of exporter prometheus (127.0.0.1:9465); give the server or the exporter another port',
  ],
  'server-token-too-short.yaml': ['service.server.bearer_token: must be at least 16 characters long (got 7); generate one with: openssl rand -hex 32'],
  'several-errors-at-once.yaml': [
    'receivers.connections.ring_buffer_size: must be at least 4096 bytes (one page), got 1000',
    'receivers.connections.poll_interval: must be a duration with a unit, such as 10s, 1m30s or 500ms; got "fast"',
    'processors.filter/ports.include[0].ports[1]: must be a port number from 1 to 65535, got 70000',
    'exporters.debug.verbosity: must be one of basic, normal, detailed; got "loud"',
    'service.pipelines.metrics.exporters: "otlp" is not defined under exporters (defined: debug)',
  ],
};

function problemsOf(file: string): readonly string[] {
  try {
    loadConfigFile(file, ENV);
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${String(e)}`);
    return e.problems;
  }
  assert.fail(`${file} loaded without problems`);
}

for (const [fixture, expected] of Object.entries(EXPECTED)) {
  test(`${fixture.replace(/\.yaml$/, '').replaceAll('-', ' ')} is reported with its key path and a fix`, () => {
    assert.deepEqual(problemsOf(`${BAD}/${fixture}`), expected);
  });
}

test('every bad fixture has its expected problems in the table', () => {
  assert.deepEqual(
    readdirSync(BAD)
      .filter((f) => f.endsWith('.yaml'))
      .sort(),
    Object.keys(EXPECTED).sort(),
  );
});

test('the error message names the file and lists every problem on its own line', () => {
  const file = `${BAD}/several-errors-at-once.yaml`;
  try {
    loadConfigFile(file, ENV);
    assert.fail('loaded');
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    assert.equal(e.file, file);
    assert.equal(e.message, `${file}: invalid configuration:\n  - ${EXPECTED['several-errors-at-once.yaml'].join('\n  - ')}`);
  }
});

test('a missing file is a ConfigError that says so', () => {
  assert.throws(
    () => loadConfigFile(`${BAD}/does-not-exist.yaml`, ENV),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.deepEqual(e.problems, ['cannot read the configuration file: no such file (give one with -c FILE)']);
      return true;
    },
  );
});
