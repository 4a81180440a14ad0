import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfig } from '../../../src/config';
import { expandString } from '../../../src/config/env-substitution';
import { ConfigError } from '../../../src/errors';
import { TypedText } from '../../../src/config/typed-text';

/** Expands like the loader and shows the text a string setting would get. */
const text = (s: string, env: Record<string, string> = {}): string => {
  const v = expandString(s, env);
  return v instanceof TypedText ? v.text : v;
};

test('a set variable replaces ${env:NAME}, embedded or whole', () => {
  assert.equal(text('${env:HOST}', { HOST: 'collector' }), 'collector');
  assert.equal(text('https://${env:HOST}:4318/v1', { HOST: 'collector' }), 'https://collector:4318/v1');
  assert.equal(text('${env:A}-${env:B}', { A: 'x', B: 'y' }), 'x-y');
});

test('${NAME} without a scheme means env, as with the collector default scheme', () => {
  assert.equal(text('${HOST}', { HOST: 'collector' }), 'collector');
});

test('an unset variable takes its default; a set but empty one stays empty', () => {
  assert.equal(text('${env:HOST:-localhost}'), 'localhost');
  assert.equal(text('${env:HOST:-localhost}', { HOST: '' }), '');
  assert.equal(text('${env:HOST:-localhost}', { HOST: 'collector' }), 'collector');
});

test('an unset variable without a default becomes empty', () => {
  assert.equal(text('${env:NOPE}'), '');
  assert.equal(text('a${env:NOPE}b'), 'ab');
});

test('defaults may contain colons, $$ and other references', () => {
  assert.equal(text('${env:EP:-http://localhost:4317}'), 'http://localhost:4317');
  assert.equal(text('${env:A:-${env:B}}', { B: 'b' }), 'b');
  assert.equal(text('${env:A:-$$5}'), '$5');
});

test('$$ is a literal $, so $${env:X} stays literal text', () => {
  assert.equal(text('pa$$word'), 'pa$word');
  assert.equal(text('$${env:X}', { X: 'no' }), '${env:X}');
  assert.equal(text('$$$${env:X}', { X: 'no' }), '$${env:X}');
  assert.equal(text('$$${env:X}', { X: 'yes' }), '$yes');
  assert.equal(text('cost $5'), 'cost $5');
});

test("a variable's value is inserted verbatim, never expanded again", () => {
  assert.equal(text('${env:SECRET}', { SECRET: 'a$$b${env:OTHER}' }), 'a$$b${env:OTHER}');
});

test('a whole-value reference is read as YAML, keeping its text for string settings', () => {
  const v = expandString('${env:PORT}', { PORT: '0123' });
  assert.ok(v instanceof TypedText);
  assert.deepEqual([v.text, v.value], ['0123', 123]);
  assert.equal(expandString('x${env:PORT}', { PORT: '1' }), 'x1');
});

const minimal = (exporter: string) => `
receivers:
  connections:
exporters:
${exporter}
service:
  pipelines:
    metrics:
      receivers: [connections]
      exporters: [${exporter.trim().split(':')[0]}]
`;

test('a numeric setting takes the number an env var holds, a header keeps its exact text', () => {
  const cfg = parseConfig(minimal('  prometheus:\n    port: ${env:PROM_PORT}') + '\n  telemetry:\n    resource:\n      tenant: ${env:TENANT}\n', 'test.yaml', {
    PROM_PORT: '9999',
    TENANT: '0042',
  });
  const prom = cfg.exporters.prometheus;
  assert.equal(prom.type === 'prometheus' && prom.port, 9999);
  assert.equal(cfg.service.telemetry.resource.tenant, '0042');
});

test('an unset variable in a numeric setting leaves its default, as an empty value does', () => {
  const cfg = parseConfig(minimal('  prometheus:\n    port: ${env:PROM_PORT}'), 'test.yaml', {});
  const prom = cfg.exporters.prometheus;
  assert.equal(prom.type === 'prometheus' && prom.port, 9464);
});

test('keys are never expanded', () => {
  assert.throws(
    () => parseConfig(minimal('  debug:\n    ${env:KEY}: basic'), 'test.yaml', { KEY: 'verbosity' }),
    (e: unknown) => e instanceof ConfigError && e.problems[0].startsWith('exporters.debug.${env:KEY}: unknown key'),
  );
});

const problems = (yaml: string, env: Record<string, string> = {}): readonly string[] => {
  try {
    parseConfig(yaml, 'test.yaml', env);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
};

test('bad references are reported at their key path', () => {
  assert.deepEqual(problems(minimal('  otlp:\n    endpoint: ${env:BAD-NAME}')), [
    'exporters.otlp.endpoint: ${env:BAD-NAME}: "BAD-NAME" is not a valid environment variable name (letters, digits and _, not starting with a digit)',
  ]);
  assert.deepEqual(problems(minimal('  otlp:\n    endpoint: ${file:/etc/endpoint}')), [
    'exporters.otlp.endpoint: ${file:/etc/endpoint} uses the "file" provider; netwatch supports only ${env:NAME} and ${env:NAME:-default}',
  ]);
  assert.deepEqual(problems(minimal('  otlp:\n    endpoint: "${env:EP"')), [
    'exporters.otlp.endpoint: "${env:EP" has no closing "}"; write $${ for a literal "${"',
  ]);
});
