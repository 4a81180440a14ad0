import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { CatalogueError, parseCatalogue, validateCatalogue } from '../../../otel/catalogue';
import { repoPath } from '../../helpers/paths';

const attr = (name: string, extra: object = {}) => ({ name, type: 'string', description: 'd', requirement: 'always', ...extra });
const metric = (name: string, extra: object = {}) => ({
  name,
  source: 'connections',
  instrument: 'counter',
  value_type: 'int',
  unit: '{connection}',
  description: 'd',
  enabled: true,
  attributes: ['network.transport'],
  ...extra,
});

function problemsOf(doc: unknown): readonly string[] {
  try {
    validateCatalogue(doc);
  } catch (e) {
    assert.ok(e instanceof CatalogueError, String(e));
    return e.problems;
  }
  assert.fail('the catalogue was accepted');
}

test('catalogue validation rejects a bad catalogue and lists every problem', () => {
  const problems = problemsOf({
    semconv_version: '1.45',
    attributes: [attr('network.transport', { semconv: true, enum: ['tcp', 'udp'] }), attr('netwatch.count', { type: 'int', enum: ['a'] }), attr('made.up')],
    metrics: [
      metric('netwatch.connection.opened'),
      metric('netwatch.connection.opened'),
      metric('netwatch.no_unit', { unit: undefined }),
      metric('netwatch.bad_ref', { attributes: ['network.nope'] }),
      metric('netwatch.hist', { instrument: 'histogram', value_type: 'double', unit: 's' }),
      metric('netwatch.hist2', { instrument: 'histogram', value_type: 'double', unit: 's', buckets: [1, 1, 2] }),
    ],
    events: [{ name: 'netwatch.connection.open', source: 'connections', severity: 'LOUD', description: 'd', enabled: true, attributes: [] }],
  });
  const expected = [
    /semconv_version: the semantic conventions version the names follow is required, as x\.y\.z \(got "1\.45"\)/,
    /attribute netwatch\.count: only string attributes can have 'enum'/,
    /attribute made\.up: names outside the semantic conventions must start with 'netwatch\.'/,
    /metric netwatch\.connection\.opened: defined more than once/,
    /metric netwatch\.no_unit: 'unit' is required/,
    /metric netwatch\.bad_ref: attribute 'network\.nope' is not defined/,
    /metric netwatch\.hist: histograms need 'buckets'/,
    /metric netwatch\.hist2: 'buckets' must be strictly increasing/,
    /event netwatch\.connection\.open: 'severity' must be one of/,
  ];
  for (const re of expected)
    assert.ok(
      problems.some((p) => re.test(p)),
      `no problem matches ${re}:\n${problems.join('\n')}`,
    );
  assert.equal(problems.length, expected.length, problems.join('\n'));
});

test('an opt-in attribute without an include switch cannot be put on a metric', () => {
  const problems = problemsOf({
    semconv_version: '1.45.0',
    attributes: [attr('network.transport', { semconv: true }), attr('network.peer.port', { semconv: true, type: 'int', requirement: 'opt-in' })],
    metrics: [metric('netwatch.connection.opened', { attributes: ['network.transport', 'network.peer.port'] })],
    events: [],
  });
  assert.deepEqual(problems, [
    "metric netwatch.connection.opened: opt-in attribute 'network.peer.port' has no 'include' switch, so it could never be added to a metric",
  ]);
});

test('names come from the conventions or from netwatch., arrays stay off metrics, and renames point at current names', () => {
  const problems = problemsOf({
    semconv_version: '1.45.0',
    attributes: [attr('network.transport', { semconv: true }), attr('netwatch.alpn', { type: 'string[]' }), attr('netwatch.mine', { semconv: true })],
    metrics: [metric('otel.sdk.made_up'), metric('netwatch.list', { attributes: ['netwatch.alpn'] })],
    events: [],
    renamed: [
      { name: 'netwatch.old', kind: 'metric', replaced_by: 'netwatch.gone', note: 'n' },
      { name: 'netwatch.list', kind: 'metric', note: 'n' },
      { name: 'netwatch.older', kind: 'table', note: 'n' },
    ],
  });
  assert.deepEqual(problems, [
    "attribute netwatch.mine: a 'netwatch.' name is not from the semantic conventions (drop 'semconv: true')",
    "metric otel.sdk.made_up: names outside the semantic conventions must start with 'netwatch.'",
    "metric netwatch.list: array attribute 'netwatch.alpn' is for log records only (a series is keyed by scalar values)",
    'renamed netwatch.old: \'replaced_by\' must name a current metric (got "netwatch.gone")',
    'renamed netwatch.list: the metric still exists; only names no longer emitted are listed here',
    'renamed netwatch.older: \'kind\' must be one of attribute, metric, event (got "table")',
  ]);
});

test('the shipped catalogue is valid and has the metrics and events the agent relies on', () => {
  const cat = parseCatalogue(readFileSync(repoPath('otel/catalogue.yaml'), 'utf8'));
  const metrics = new Map(cat.metrics.map((m) => [m.name, m]));
  assert.equal(metrics.get('netwatch.connection.duration')?.unit, 's');
  assert.equal(metrics.get('netwatch.connection.io')?.unit, 'By');
  assert.equal(cat.events.find((e) => e.name === 'netwatch.connection.state_change')?.enabled, false);
});
