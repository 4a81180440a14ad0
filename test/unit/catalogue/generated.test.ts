import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { CATALOGUE_PATH, DOCUMENTATION_PATH, GENERATED_TS_PATH, generate } from '../../../otel/generate';
import { REPO_ROOT } from '../../helpers/paths';

// The compiled generator, wherever this build lives.
const GENERATOR = join(__dirname, '../../../otel/generate.js');

test('the generated files are up to date with otel/catalogue.yaml', () => {
  const r = spawnSync(process.execPath, [GENERATOR, '--check'], { cwd: REPO_ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, `run the generator (npm run generate):\n${r.stderr}`);
});

test('check mode exits 1 and names the stale file when a generated file was edited by hand', () => {
  const root = mkdtempSync(join(tmpdir(), 'netwatch-gen-'));
  mkdirSync(join(root, 'otel'));
  mkdirSync(join(root, dirname(GENERATED_TS_PATH)), { recursive: true });
  for (const p of [CATALOGUE_PATH, GENERATED_TS_PATH, DOCUMENTATION_PATH]) cpSync(join(REPO_ROOT, p), join(root, p));
  writeFileSync(join(root, DOCUMENTATION_PATH), readFileSync(join(root, DOCUMENTATION_PATH), 'utf8') + '\nhand edit\n');
  const r = spawnSync(process.execPath, [GENERATOR, '--check', '--root', root], { encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /otel\/documentation\.md/);
  assert.doesNotMatch(r.stderr, /generated\.ts/);
});

test('the generator is deterministic: the same catalogue gives byte-identical files', () => {
  const text = readFileSync(join(REPO_ROOT, CATALOGUE_PATH), 'utf8');
  assert.deepEqual(generate(text), generate(text));
});
