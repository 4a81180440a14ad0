// The schema walker: every key of a convict-shaped schema is checked against the file, and every
// problem is reported together with its own key path.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import convict from 'convict';
import { FORMATS, registerFormats } from '../../../src/config/formats';
import { readOtelEnv } from '../../../src/config/otel-env';
import { isMapping } from '../../../src/config/problems';
import { KINDS, KIND_ORDER } from '../../../src/config/registry';
import { pipelineSchema } from '../../../src/config/schemas/pipeline';
import { serviceSpec } from '../../../src/config/schemas/service';
import { checkSection, type SchemaSpec } from '../../../src/config/section';
import { TypedText } from '../../../src/config/typed-text';

interface Settings {
  size: number;
  every: string;
  labels: Record<string, string>;
  switches: Record<string, unknown>;
  group: { on: boolean; deeper: { name: string } };
}

const spec = (extra: Partial<SchemaSpec<Settings>> = {}): SchemaSpec<Settings> => ({
  schema: {
    size: { doc: 'A count.', format: 'nw.count', default: 8 },
    every: { doc: 'An interval.', format: 'nw.duration', default: '10s' },
    labels: { doc: 'Names to text.', format: 'nw.string-map', default: { 'from.env': 'a' } },
    switches: { doc: 'Names to settings.', format: Object, default: {} },
    group: {
      on: { doc: 'A switch.', format: 'nw.bool', default: false },
      deeper: { name: { doc: 'Some text.', format: 'nw.text', default: '' } },
    },
  },
  ...extra,
});

const messages = <S>(input: unknown, s: SchemaSpec<S> = spec() as SchemaSpec<S>): string[] =>
  checkSection(s, input, 'x').problems.map((p) => `${p.path}: ${p.message}`);

test('an empty section gets every default, copied so that a frozen config never shares the schema', () => {
  const s = spec();
  const r = checkSection(s, null, 'x');
  assert.deepEqual(r.problems, []);
  assert.deepEqual(r.value, { size: 8, every: '10s', labels: { 'from.env': 'a' }, switches: {}, group: { on: false, deeper: { name: '' } } });
  assert.notEqual(r.value.labels, (s.schema.labels as { default: unknown }).default);
  assert.deepEqual([...r.provided], []);
});

test('unknown keys, bad values and non-mappings are all reported, each at its key path, in file order', () => {
  assert.deepEqual(messages({ every: 'soon', nope: 1, group: { on: 'yes', deeper: [] }, size: 0 }), [
    'x.every: must be a duration with a unit, such as 10s, 1m30s or 500ms; got "soon"',
    'x.nope: unknown key; valid keys here: size, every, labels, switches, group',
    'x.group.on: must be true or false, got "yes"',
    'x.group.deeper: must be a mapping (key: value lines) with keys among name, got a list',
    'x.size: must be a whole number of at least 1, got 0',
  ]);
});

test('a bad item of a list is reported at its index, each one, and a bad default names its origin there too', () => {
  const s: SchemaSpec<{ ports: number[] }> = {
    schema: { ports: { doc: 'Ports.', format: 'nw.port-list', default: [0] } },
    origins: { ports: 'PORTS' },
  };
  assert.deepEqual(messages({}, s), ['x.ports[0]: must be a port number from 1 to 65535, got 0 (this default comes from PORTS)']);
  assert.deepEqual(messages({ ports: [443, 0, 70000, 'https'] }, s), [
    'x.ports[1]: must be a port number from 1 to 65535, got 0',
    'x.ports[2]: must be a port number from 1 to 65535, got 70000',
    'x.ports[3]: must be a port number from 1 to 65535, got "https"',
  ]);
});

test('a setting that fails holds its default and is marked invalid; provided lists what the file set', () => {
  const r = checkSection(spec(), { size: 0, every: '1s', group: 'on' }, 'x');
  assert.deepEqual([r.value!.size, r.value!.every, r.value!.group], [8, '1s', { on: false, deeper: { name: '' } }]);
  assert.deepEqual([...r.invalid].sort(), ['group', 'size']);
  assert.deepEqual([...r.provided].sort(), ['every', 'size']);
});

test('a section that is not a mapping has no value and says what it should be', () => {
  const r = checkSection(spec({ expected: 'a mapping such as {size: 2}' }), [1], 'x');
  assert.equal(r.value, undefined);
  assert.deepEqual(r.problems, [{ path: 'x', message: 'must be a mapping such as {size: 2}, got a list' }]);
});

test('an empty value means the default, as in the collector', () => {
  const r = checkSection(spec(), { size: null, group: null }, 'x');
  assert.deepEqual(r.problems, []);
  assert.deepEqual([r.value!.size, r.value!.group.on], [8, false]);
});

test('keys of a map setting are names: their dots are kept, never read as nesting', () => {
  const r = checkSection(
    spec(),
    { labels: { 'service.name': 'edge', 'a.b.c': new TypedText('0042', 42) }, switches: { 'netwatch.x.y': { enabled: false } } },
    'x',
  );
  assert.deepEqual(r.problems, []);
  assert.deepEqual(r.value!.labels, { 'from.env': 'a', 'service.name': 'edge', 'a.b.c': '0042' });
  assert.deepEqual(r.value!.switches, { 'netwatch.x.y': { enabled: false } });
});

test('a map setting merges over its default, and the file wins', () => {
  const r = checkSection(spec(), { labels: { 'from.env': 'b' } }, 'x');
  assert.deepEqual(r.value!.labels, { 'from.env': 'b' });
});

test('a bad entry of a map setting with a dotted name is reported at the setting, naming the entry', () => {
  assert.deepEqual(messages({ labels: { 'service.name': { value: 'edge' } }, switches: 'off' }), [
    'x.labels: the value of "service.name" must be a single value (text), not a mapping',
    'x.switches: must be a mapping (name: settings lines), got "off"',
  ]);
});

test('a dotted key where nesting was meant is told how to nest it', () => {
  assert.deepEqual(messages({ 'group.deeper.name': 'n', 'switches.netwatch.x': {}, 'size.big': 1 }), [
    'x.group.deeper.name: unknown key; keys are not split at dots, so nest it: group: {deeper: {name: ...}}; valid keys here: size, every, labels, switches, group',
    'x.switches.netwatch.x: unknown key; keys are not split at dots, so nest it: switches: {netwatch.x: ...}; valid keys here: size, every, labels, switches, group',
    'x.size.big: unknown key; valid keys here: size, every, labels, switches, group',
  ]);
});

test('a default that fails its format is reported after the file, naming the variable it came from', () => {
  const s = spec({ origins: { every: 'EVERY' }, envProblems: { size: 'SIZE is not a number' } });
  (s.schema.every as { default: unknown }).default = 'soon';
  assert.deepEqual(messages({ nope: 1 }, s), [
    'x.nope: unknown key; valid keys here: size, every, labels, switches, group',
    'x.size: SIZE is not a number',
    'x.every: must be a duration with a unit, such as 10s, 1m30s or 500ms; got "soon" (this default comes from EVERY)',
  ]);
  assert.deepEqual(messages({ size: 2, every: '1s' }, s), []);
});

/** Every schema the loader walks: components, their list items, service and pipelines. */
function everySchema(): [string, Record<string, unknown>][] {
  const env = readOtelEnv({});
  const out: [string, Record<string, unknown>][] = [
    ['service', serviceSpec(env).schema],
    ['pipeline', pipelineSchema],
  ];
  for (const kind of KIND_ORDER) {
    for (const [type, def] of Object.entries(KINDS[kind].types)) {
      out.push([`${kind}.${type}`, def.schema(env).schema]);
      for (const [key, item] of Object.entries(def.lists ?? {})) out.push([`${kind}.${type}.${key}[]`, item]);
    }
  }
  return out;
}

test('every schema netwatch declares is one convict itself accepts', () => {
  registerFormats();
  for (const [name, schema] of everySchema()) assert.doesNotThrow(() => convict(schema as convict.Schema<unknown>, { env: {}, args: [] }), name);
});

test('every setting has a doc, a default and a format the walker knows', () => {
  const leaves = (node: Record<string, unknown>, path: string, out: string[]): void => {
    for (const [k, v] of Object.entries(node)) {
      if (!isMapping(v)) assert.fail(`${path}.${k} is neither a setting nor a group`);
      if (!('default' in v)) leaves(v, `${path}.${k}`, out);
      else if (typeof v.doc !== 'string' || v.doc === '' || !(v.format === Object || (typeof v.format === 'string' && Object.hasOwn(FORMATS, v.format))))
        out.push(`${path}.${k}`);
    }
  };
  const bad: string[] = [];
  for (const [name, schema] of everySchema()) leaves(schema, name, bad);
  assert.deepEqual(bad, []);
});
