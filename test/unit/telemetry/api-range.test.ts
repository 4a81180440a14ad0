import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { repoPath } from '../../helpers/paths';

type Version = [number, number, number];
/** A range as [lowest allowed, first excluded]; only the forms the OpenTelemetry packages use. */
type Bounds = [Version, Version];

const version = (v: string): Version => v.split('.').map(Number) as Version;
const cmp = (a: Version, b: Version): number => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];

function bounds(range: string): Bounds {
  let m = /^>=\s*(\d+\.\d+\.\d+)\s+<\s*(\d+\.\d+\.\d+)$/.exec(range);
  if (m) return [version(m[1]), version(m[2])];
  m = /^\^(\d+)\.(\d+)\.(\d+)$/.exec(range);
  if (m && m[1] !== '0') return [version(`${m[1]}.${m[2]}.${m[3]}`), [Number(m[1]) + 1, 0, 0]];
  m = /^~(\d+)\.(\d+)\.(\d+)$/.exec(range);
  if (m) return [version(`${m[1]}.${m[2]}.${m[3]}`), [Number(m[1]), Number(m[2]) + 1, 0]];
  throw new Error(`range form not understood by this test: ${range}`);
}

const readJson = (path: string): Record<string, any> => JSON.parse(readFileSync(path, 'utf8'));

test("the @opentelemetry/api range lies inside every installed OpenTelemetry package's peer range", () => {
  const pkg = readJson(repoPath('package.json'));
  const [lo, hi] = bounds(pkg.dependencies['@opentelemetry/api']);
  const dir = repoPath('node_modules', '@opentelemetry');
  const peers = readdirSync(dir)
    .map((name) => readJson(`${dir}/${name}/package.json`))
    .filter((p) => p.peerDependencies?.['@opentelemetry/api'] !== undefined);
  assert.ok(peers.length > 3, 'the SDK packages are installed');
  for (const p of peers) {
    const [plo, phi] = bounds(p.peerDependencies['@opentelemetry/api']);
    assert.ok(
      cmp(lo, plo) >= 0 && cmp(hi, phi) <= 0,
      `${p.name} accepts @opentelemetry/api ${p.peerDependencies['@opentelemetry/api']}, ours is ${pkg.dependencies['@opentelemetry/api']}`,
    );
  }
});
