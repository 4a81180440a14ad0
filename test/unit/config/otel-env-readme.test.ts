import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { readOtelEnv } from '../../../src/config/otel-env';
import { repoPath } from '../../helpers/paths';

/** Every OTEL_* name the loader looks up, caught by reading through a recording environment. */
function variablesRead(): string[] {
  const names = new Set<string>();
  const env = new Proxy<Record<string, string | undefined>>(
    {},
    {
      get: (_t, key) => {
        if (typeof key === 'string') names.add(key);
        return undefined;
      },
    },
  );
  readOtelEnv(env);
  return [...names].filter((n) => n.startsWith('OTEL_')).sort();
}

/** The variables named in the README's table: `OTEL_EXPORTER_OTLP_X`, `_METRICS_X` and `_LOGS_X` expand to full names. */
function variablesDocumented(): string[] {
  const readme = readFileSync(repoPath('README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### The OTEL_* environment'));
  const rows = section
    .slice(0, section.indexOf('\n\n', section.indexOf('| variable |')))
    .split('\n')
    .filter((l) => l.startsWith('| `'));
  const names: string[] = [];
  for (const row of rows) {
    const first = row.split('|')[1];
    for (const [, n] of first.matchAll(/`([A-Z_]+)`/g)) names.push(n.startsWith('_') ? `OTEL_EXPORTER_OTLP${n}` : n);
  }
  return names.sort();
}

test("the README's table of OTEL_* variables lists exactly those the loader reads", () => {
  assert.deepEqual(variablesDocumented(), variablesRead());
  assert.equal(variablesRead().length, 9 * 3 + 8);
});
