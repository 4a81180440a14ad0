// Every catalogue name marked `semconv: true` is checked against @opentelemetry/semantic-conventions:
// it must be exported (stable or incubating) and not deprecated. The package marks deprecation only
// in its type declarations (`@deprecated` in the JSDoc of the constant), so those are read too.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { parseCatalogue } from '../../../otel/catalogue';
import { SCHEMA_URL, SEMCONV_VERSION } from '../../../src/catalogue/generated';
import { repoPath } from '../../helpers/paths';

const catalogue = parseCatalogue(readFileSync(repoPath('otel/catalogue.yaml'), 'utf8'));
// The incubating entry point re-exports the stable one: together, every constant the package has.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a subpath export, which TypeScript's node10 module resolution cannot see
const incubating = require('@opentelemetry/semantic-conventions/incubating') as Record<string, unknown>;
const DIST = dirname(require.resolve('@opentelemetry/semantic-conventions/incubating'));
// The package exports no ./package.json subpath: read it from beside its dist/.
const packageVersion = (JSON.parse(readFileSync(join(DIST, '..', 'package.json'), 'utf8')) as { version: string }).version;

interface Declared {
  /** Constant name → its value, for `ATTR_*` or `METRIC_*` string constants. */
  values: Map<string, string>;
  deprecated: Set<string>;
}

/** `declare const ATTR_X: "x.y";` with the JSDoc block right above it, from every .d.cts of the package. */
function readDeclarations(prefix: 'ATTR_' | 'METRIC_'): Declared {
  const values = new Map<string, string>();
  const deprecated = new Set<string>();
  const decl = new RegExp(`/\\*\\*((?:(?!\\*/)[\\s\\S])*)\\*/\\s*declare const (${prefix}[A-Z0-9_]+): "([^"]+)";`, 'g');
  for (const file of readdirSync(DIST).filter((f) => f.endsWith('.d.cts'))) {
    for (const m of readFileSync(join(DIST, file), 'utf8').matchAll(decl)) {
      const [, doc, name, value] = m as unknown as [string, string, string, string];
      values.set(name, value);
      if (/@deprecated\b/.test(doc)) deprecated.add(name);
    }
  }
  return { values, deprecated };
}

/** Problems of one name: not in the conventions at all, or only under deprecated constants (with why). */
function check(kind: 'attribute' | 'metric', name: string, d: Declared): string | undefined {
  const constants = [...d.values].filter(([, v]) => v === name).map(([c]) => c);
  if (constants.length === 0) return `${kind} ${name} is marked semconv but @opentelemetry/semantic-conventions has no constant for it`;
  for (const c of constants) assert.equal(incubating[c], name, `${c} is declared but not exported with value ${name}`);
  if (constants.every((c) => d.deprecated.has(c))) return `${kind} ${name} is deprecated in the semantic conventions (${constants.join(', ')})`;
  return undefined;
}

test('the catalogue follows the semantic conventions of the installed package, and says so in its schema URL', () => {
  assert.equal(
    catalogue.semconv_version,
    packageVersion,
    'otel/catalogue.yaml semconv_version must be the installed @opentelemetry/semantic-conventions version',
  );
  assert.equal(SEMCONV_VERSION, packageVersion);
  assert.equal(SCHEMA_URL, `https://opentelemetry.io/schemas/${packageVersion}`);
});

test('every attribute marked semconv is a current attribute of the conventions', () => {
  const d = readDeclarations('ATTR_');
  assert.ok(d.values.size > 500 && d.deprecated.size > 10, `the declarations were not read (${d.values.size} constants, ${d.deprecated.size} deprecated)`);
  const problems = catalogue.attributes.filter((a) => a.semconv).flatMap((a) => check('attribute', a.name, d) ?? []);
  assert.deepEqual(problems, []);
});

test('every metric marked semconv is a current metric of the conventions', () => {
  const d = readDeclarations('METRIC_');
  assert.ok(d.values.size > 100, `the declarations were not read (${d.values.size} constants)`);
  const problems = catalogue.metrics.filter((m) => m.semconv).flatMap((m) => check('metric', m.name, d) ?? []);
  assert.deepEqual(problems, []);
});

test('a deprecated or unknown name is caught', () => {
  const d = readDeclarations('ATTR_');
  assert.match(check('attribute', 'container.runtime', d) ?? '', /container\.runtime is deprecated .*ATTR_CONTAINER_RUNTIME\b/);
  assert.match(check('attribute', 'tls.client.server_name', d) ?? '', /deprecated/);
  assert.match(check('attribute', 'network.made_up', d) ?? '', /has no constant/);
  assert.equal(check('attribute', 'container.runtime.name', d), undefined);
});

test('names outside the conventions are under netwatch. and never shadow one of the conventions', () => {
  const attrs = readDeclarations('ATTR_');
  const metrics = readDeclarations('METRIC_');
  const known = new Set([...attrs.values.values(), ...metrics.values.values()]);
  for (const a of catalogue.attributes.filter((x) => !x.semconv)) assert.ok(!known.has(a.name), `${a.name} is in the conventions: mark it semconv`);
  for (const m of catalogue.metrics.filter((x) => !x.semconv)) assert.ok(!known.has(m.name), `${m.name} is in the conventions: mark it semconv`);
});
