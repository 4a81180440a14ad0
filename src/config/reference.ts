// The configuration reference, rendered from the same convict-shaped schemas the loader walks,
// so the docs cannot drift from the code (written to config/reference.md by the generator).
import { KINDS, KIND_ORDER } from './registry';
import { readOtelEnv } from './otel-env';
import { serviceSpec } from './schemas/service';

interface Leaf {
  doc?: string;
  format?: unknown;
  default?: unknown;
}

function isLeaf(v: unknown): v is Leaf {
  return typeof v === 'object' && v !== null && ('doc' in v || 'default' in v || 'format' in v);
}

function fmtDefault(v: unknown): string {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'string') return v === '' ? '""' : `\`${v}\``;
  if (Array.isArray(v)) return v.length ? `\`${JSON.stringify(v)}\`` : '`[]`';
  if (typeof v === 'object') return Object.keys(v).length ? `\`${JSON.stringify(v)}\`` : '`{}`';
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- objects returned above: numbers and booleans print as themselves
  return `\`${String(v)}\``;
}

function rows(schema: Record<string, unknown>, prefix: string, out: string[]): void {
  for (const [key, v] of Object.entries(schema)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (isLeaf(v)) out.push(`| \`${path}\` | ${fmtDefault(v.default)} | ${(v.doc ?? '').replace(/\|/g, '\\|')} |`);
    else if (typeof v === 'object' && v !== null) rows(v as Record<string, unknown>, path, out);
  }
}

export function renderReference(): string {
  // An empty environment: defaults shown are the file's, not whoever runs the generator.
  const env = readOtelEnv({});
  const out: string[] = [
    '<!-- Generated from the component schemas (src/components.ts) by `npm run generate`; do not edit. -->',
    '# agent.yaml reference',
    '',
    'Components are defined under `receivers`, `processors` and `exporters` with ids `type` or',
    '`type/name`, and run when a pipeline under `service.pipelines` lists them. Values may use',
    '`${env:VAR}` or `${env:VAR:-default}`; `$$` is a literal `$`. Unknown keys are errors.',
    'Durations are written like `500ms`, `10s`, `1m30s`.',
    '',
  ];
  for (const kind of KIND_ORDER) {
    const info = KINDS[kind];
    out.push(`## ${kind}`, '');
    for (const [type, def] of Object.entries(info.types)) {
      if (def.deprecatedAliasOf) {
        out.push(
          `### ${info.noun} \`${type}\``,
          '',
          `The old name of \`${def.deprecatedAliasOf}\` (deprecated, as in the collector since v0.144): the same settings.`,
          '',
        );
        continue;
      }
      out.push(`### ${info.noun} \`${type}\``, '', def.summary, '', '| key | default | meaning |', '| --- | --- | --- |');
      rows(def.schema(env).schema, '', out);
      for (const [key, item] of Object.entries(def.lists ?? {})) rows(item, `${key}[]`, out);
      out.push('');
    }
  }
  out.push('## service', '', '| key | default | meaning |', '| --- | --- | --- |');
  rows(serviceSpec(env).schema, '', out);
  out.push('');
  return out.join('\n');
}
