import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfigFile, parseConfig, redactConfig, summarizeConfig } from '../../../src/config';
import { repoPath } from '../../helpers/paths';

const cfg = loadConfigFile(repoPath('test', 'fixtures', 'config', 'good', 'every-component.yaml'), {});

test('header values are redacted, header names are kept', () => {
  const r = redactConfig(cfg).exporters['otlp/tls'];
  assert.ok(r.type === 'otlp');
  for (const s of [r.metrics, r.logs]) assert.deepEqual(s.headers, { authorization: '<redacted>', 'x-org-id': '<redacted>' });
});

test('redaction leaves the original config untouched and the rest of the copy equal', () => {
  const r = redactConfig(cfg);
  const original = cfg.exporters['otlp/tls'];
  assert.ok(original.type === 'otlp');
  assert.equal(original.metrics.headers.authorization, 'Bearer s3cr3t');
  assert.deepEqual(r.receivers, cfg.receivers);
  assert.deepEqual(r.service, cfg.service);
  assert.ok(Object.isFrozen(r.exporters));
});

test('resource attributes named like secrets and credentials in URLs are redacted', () => {
  const c = parseConfig(
    `
receivers: {connections: }
exporters:
  otlphttp:
    endpoint: https://user:hunter2@otlp.example.com
service:
  pipelines:
    logs: {receivers: [connections], exporters: [otlphttp]}
  telemetry:
    resource:
      api.token: abc
      db_password: hunter2
      my-secret: x
      region: eu
`,
    'test.yaml',
    {},
  );
  const r = redactConfig(c);
  assert.deepEqual(r.service.telemetry.resource, { 'api.token': '<redacted>', db_password: '<redacted>', 'my-secret': '<redacted>', region: 'eu' });
  const h = r.exporters.otlphttp;
  assert.equal(h.type === 'otlphttp' && h.metrics.endpoint, 'https://<redacted>@otlp.example.com/v1/metrics');
});

test('the validate summary never contains a secret', () => {
  const text = summarizeConfig(cfg);
  assert.ok(!text.includes('s3cr3t'));
  assert.ok(text.includes('headers.authorization=<redacted>'));
});

test('the validate summary shows the server settings with the bearer token redacted', () => {
  const c = parseConfig(
    'receivers:\n  connections:\nexporters:\n  debug:\nservice:\n  server:\n    enabled: true\n    bearer_token: ${env:TOKEN}\n  pipelines:\n    metrics:\n      receivers: [connections]\n      exporters: [debug]\n',
    't.yaml',
    { TOKEN: 'tok-0123456789abcdef' },
  );
  const text = summarizeConfig(c);
  assert.ok(!text.includes('tok-0123456789abcdef'));
  assert.match(
    text,
    /^ {2}server\.enabled=true server\.host=127\.0\.0\.1 server\.port=9465 server\.bearer_token=<redacted> server\.window\.max_events=10000 server\.window\.max_age_ms=900000 shutdown_timeout_ms=10000$/m,
  );
});
