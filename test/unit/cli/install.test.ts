// `netwatch install --root DIR` writes the config, the environment file and a unit that
// `systemd-analyze verify` accepts; the shipped unit is that template rendered for /opt/netwatch.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CAPABILITIES, SHIPPED_UNIT_PATH, shippedUnit } from '../../../src/cli/systemd-unit';
import { REPO_ROOT, repoPath } from '../../helpers/paths';

const CLI = join(__dirname, '../../../src/cli/main.js');
const netwatch = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { cwd: REPO_ROOT, encoding: 'utf8' });

/** systemd-analyze verify: exit 0 and not one warning (unknown keys only warn). */
function verify(unitPath: string): { status: number | null; output: string } {
  const r = spawnSync('systemd-analyze', ['verify', unitPath], { encoding: 'utf8' });
  return { status: r.status, output: (r.stdout + r.stderr).trim() };
}

test('install --root writes agent.yaml, a 0600 environment file and a unit that systemd-analyze verify accepts without a warning', () => {
  const root = mkdtempSync(join(tmpdir(), 'nwt-install-'));
  const r = netwatch(
    'install',
    '-c',
    'config/agent.yaml',
    '--root',
    root,
    '--flag',
    '--watch',
    '--env',
    'NETWATCH_API_TOKEN=0123456789abcdef0123',
    '--env',
    'OTEL_EXPORTER_OTLP_ENDPOINT=http://collector:4317',
    '--no-start',
  );
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /installed .*\/etc\/systemd\/system\/netwatch\.service \(config .*\/etc\/netwatch\/agent\.yaml, 2 variables in /);
  assert.doesNotMatch(r.stdout + r.stderr, /0123456789abcdef0123/, 'the token is never printed');
  assert.equal(readFileSync(join(root, 'etc/netwatch/agent.yaml'), 'utf8'), readFileSync(repoPath('config/agent.yaml'), 'utf8'));
  const envFile = join(root, 'etc/netwatch/netwatch.env');
  assert.equal(statSync(envFile).mode & 0o777, 0o600);
  assert.equal(readFileSync(envFile, 'utf8'), 'NETWATCH_API_TOKEN="0123456789abcdef0123"\nOTEL_EXPORTER_OTLP_ENDPOINT="http://collector:4317"\n');
  const unitPath = join(root, 'etc/systemd/system/netwatch.service');
  const unit = readFileSync(unitPath, 'utf8');
  assert.match(unit, new RegExp(`^ExecStart=${process.execPath} \\S+/dist/src/cli/main\\.js run -c /etc/netwatch/agent\\.yaml --watch$`, 'm'));
  assert.match(unit, /^ExecReload=\/bin\/kill -HUP \$MAINPID$/m);
  assert.match(unit, new RegExp(`^AmbientCapabilities=${CAPABILITIES.join(' ')}$`, 'm'));
  assert.deepEqual(verify(unitPath), { status: 0, output: '' });
});

test('the shipped packaging/systemd/netwatch.service is the template for /opt/netwatch, and verifies', () => {
  assert.equal(readFileSync(repoPath(SHIPPED_UNIT_PATH), 'utf8'), shippedUnit());
  assert.deepEqual(verify(repoPath(SHIPPED_UNIT_PATH)), { status: 0, output: '' });
});

test('systemd-analyze verify is a real check here: a unit with a typo or a missing binary fails it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nwt-unit-'));
  writeFileSync(join(dir, 'typo.service'), shippedUnit().replace('KillSignal=', 'KilSignal='));
  assert.match(verify(join(dir, 'typo.service')).output, /Unknown key 'KilSignal'/);
  writeFileSync(join(dir, 'missing.service'), shippedUnit().replace('/usr/bin/node', '/nonexistent/node'));
  assert.notEqual(verify(join(dir, 'missing.service')).status, 0);
});

test('install refuses an invalid config and unknown run flags, installing nothing', () => {
  const root = mkdtempSync(join(tmpdir(), 'nwt-install-'));
  const bad = netwatch('install', '-c', 'test/fixtures/config/bad/yes-is-not-a-boolean.yaml', '--root', root, '--no-start');
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /receivers\.connections\.seed_existing: must be true or false/);
  const flag = netwatch('install', '--root', root, '--flag', '--debug', '--no-start');
  assert.equal(flag.status, 2);
  assert.match(flag.stderr, /--flag --debug: netwatch run takes only --watch besides -c/);
  assert.equal(spawnSync('find', [root, '-type', 'f'], { encoding: 'utf8' }).stdout, '');
});

test('install --print shows the unit and writes nothing', () => {
  const r = netwatch('install', '--print', '--root', '/nonexistent-root');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^\[Service\]$/m);
});

test("the README's docker run flags add exactly the unit's capabilities", () => {
  const readme = readFileSync(repoPath('README.md'), 'utf8');
  const added = [...readme.matchAll(/--cap-add ([A-Z_]+)/g)].map((m) => `CAP_${m[1]}`);
  assert.deepEqual(added.sort(), [...CAPABILITIES].sort());
});
