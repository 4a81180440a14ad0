// Nomad versions as nomad version and /v1/agent/self write them, ordered as semantic versions.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatNomadVersion, parseNomadVersion, versionAtLeast } from '../../../src/config/nomad-version';

const at = (v: string, min: string): boolean => versionAtLeast(parseNomadVersion(v)!, parseNomadVersion(min)!);

test('reads releases, pre-releases, build metadata and a leading v', () => {
  assert.deepEqual(parseNomadVersion('2.0.5'), { major: 2, minor: 0, patch: 5, prerelease: '' });
  assert.deepEqual(parseNomadVersion('v1.10.3-beta.1+ent'), { major: 1, minor: 10, patch: 3, prerelease: 'beta.1' });
  assert.equal(formatNomadVersion(parseNomadVersion('2.0.6-dev+fips1403')!), '2.0.6-dev');
  for (const bad of ['', '2.0', 'latest', '2.0.5.1', '2.0.x']) assert.equal(parseNomadVersion(bad), undefined, bad);
});

test('orders by number, a pre-release before its release, metadata ignored', () => {
  assert.equal(at('1.8.2', '1.8.2'), true);
  assert.equal(at('1.8.2+ent', '1.8.2'), true);
  assert.equal(at('1.10.0', '1.8.2'), true, '10 > 8 as numbers, not text');
  assert.equal(at('1.8.2-rc.1', '1.8.2'), false);
  assert.equal(at('1.8.1', '1.8.2'), false);
  assert.equal(at('2.0.0-dev', '1.8.2'), true);
});
