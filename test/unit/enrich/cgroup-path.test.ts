import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CgroupAttribution, parseCgroupPath } from '../../../src/enrich/cgroup';

const ID = 'd3adb33fd3adb33fd3adb33fd3adb33fd3adb33fd3adb33fd3adb33fd3adb33f';
const ID2 = '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef';
const ALLOC = '8f2c4a1e-5b6d-4c3e-9a7f-0e1d2c3b4a59';
const POD = 'kubepods-burstable-pod1a2b3c4d_5e6f_7a8b_9c0d_1e2f3a4b5c6d.slice';

interface Fixture {
  shows: string;
  path: string;
  want: Omit<CgroupAttribution['container'], 'cgroupPath'>;
  nomad?: { allocId: string; task: string };
}

const FIXTURES: Fixture[] = [
  { shows: 'the root cgroup belongs to no container', path: '/', want: {} },
  { shows: 'a slice is not a unit', path: '/system.slice', want: {} },
  { shows: 'a systemd service is its unit', path: '/system.slice/nginx.service', want: { runtime: 'systemd', unit: 'nginx.service' } },
  { shows: 'a login session scope is its unit', path: '/user.slice/user-1000.slice/session-3.scope', want: { runtime: 'systemd', unit: 'session-3.scope' } },
  {
    shows: 'the deepest unit names a process in a user manager',
    path: '/user.slice/user-0.slice/user@0.service/app.slice/foo.service',
    want: { runtime: 'systemd', unit: 'foo.service' },
  },
  {
    shows: 'docker with the systemd driver is a docker-<id>.scope',
    path: `/system.slice/docker-${ID}.scope`,
    want: { runtime: 'docker', id: ID, unit: `docker-${ID}.scope` },
  },
  { shows: 'docker with the cgroupfs driver is /docker/<id>', path: `/docker/${ID}`, want: { runtime: 'docker', id: ID } },
  { shows: 'docker in docker is attributed to the inner container', path: `/docker/${ID}/docker/${ID2}`, want: { runtime: 'docker', id: ID2 } },
  {
    shows: 'systemd inside a container keeps the container and names the inner unit',
    path: `/system.slice/docker-${ID}.scope/system.slice/nginx.service`,
    want: { runtime: 'docker', id: ID, unit: 'nginx.service' },
  },
  {
    shows: 'kubelet with containerd and the systemd driver is a cri-containerd-<id>.scope',
    path: `/kubepods.slice/kubepods-burstable.slice/${POD}/cri-containerd-${ID}.scope`,
    want: { runtime: 'containerd', id: ID, unit: `cri-containerd-${ID}.scope` },
  },
  {
    shows: 'kubelet with the cgroupfs driver names the container by its bare id',
    path: `/kubepods/burstable/pod1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d/${ID}`,
    want: { runtime: 'containerd', id: ID },
  },
  {
    shows: 'a guaranteed pod has no QoS level in its cgroupfs path',
    path: `/kubepods/pod1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d/${ID}`,
    want: { runtime: 'containerd', id: ID },
  },
  {
    shows: 'cri-o with the systemd driver is a crio-<id>.scope',
    path: `/kubepods.slice/kubepods-besteffort.slice/${POD}/crio-${ID}.scope`,
    want: { runtime: 'cri-o', id: ID, unit: `crio-${ID}.scope` },
  },
  {
    shows: 'cri-o with the cgroupfs driver is crio-<id> without .scope',
    path: `/kubepods/besteffort/pod1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d/crio-${ID}`,
    want: { runtime: 'cri-o', id: ID },
  },
  {
    shows: 'the cri-o conmon monitor is not the container',
    path: `/kubepods.slice/${POD}/crio-conmon-${ID}.scope`,
    want: { runtime: 'systemd', unit: `crio-conmon-${ID}.scope` },
  },
  {
    shows: 'podman with the systemd driver is a libpod-<id>.scope',
    path: `/machine.slice/libpod-${ID}.scope`,
    want: { runtime: 'podman', id: ID, unit: `libpod-${ID}.scope` },
  },
  {
    shows: 'a rootless podman container lives under the user manager',
    path: `/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-${ID}.scope/container`,
    want: { runtime: 'podman', id: ID, unit: `libpod-${ID}.scope` },
  },
  {
    shows: 'an id that is not 64 hex digits is no container id',
    path: '/system.slice/docker-notanid.scope',
    want: { runtime: 'systemd', unit: 'docker-notanid.scope' },
  },
  { shows: 'the docker daemon itself is a plain service', path: '/system.slice/docker.service', want: { runtime: 'systemd', unit: 'docker.service' } },
  {
    shows: 'a Nomad task in the shared cpu partition',
    path: `/nomad.slice/share.slice/${ALLOC}.web.scope`,
    want: { runtime: 'nomad', id: `${ALLOC}/web` },
    nomad: { allocId: ALLOC, task: 'web' },
  },
  {
    shows: 'a Nomad task with reserved cores',
    path: `/nomad.slice/reserve.slice/${ALLOC}.redis.scope`,
    want: { runtime: 'nomad', id: `${ALLOC}/redis` },
    nomad: { allocId: ALLOC, task: 'redis' },
  },
  {
    shows: 'a Nomad task name may itself contain dots',
    path: `/nomad.slice/share.slice/${ALLOC}.api.v2.scope`,
    want: { runtime: 'nomad', id: `${ALLOC}/api.v2` },
    nomad: { allocId: ALLOC, task: 'api.v2' },
  },
  {
    shows: 'a custom Nomad cgroup_parent still has the share/reserve partitions',
    path: `/custom.slice/share.slice/${ALLOC}.web.scope`,
    want: { runtime: 'nomad', id: `${ALLOC}/web` },
    nomad: { allocId: ALLOC, task: 'web' },
  },
  {
    shows: 'a container runtime inside a Nomad task is more specific than the task',
    path: `/nomad.slice/share.slice/${ALLOC}.web.scope/docker-${ID}.scope`,
    want: { runtime: 'docker', id: ID, unit: `docker-${ID}.scope` },
    nomad: { allocId: ALLOC, task: 'web' },
  },
  {
    shows: 'a uuid-named scope outside a Nomad partition is an ordinary unit',
    path: `/system.slice/${ALLOC}.web.scope`,
    want: { runtime: 'systemd', unit: `${ALLOC}.web.scope` },
  },
  { shows: 'the Nomad slice itself is no task', path: '/nomad.slice/share.slice', want: {} },
];

for (const f of FIXTURES) {
  test(`cgroup path: ${f.shows}`, () => {
    const got = parseCgroupPath(f.path);
    assert.deepEqual(got.container, { cgroupPath: f.path, ...f.want });
    if (f.nomad) assert.deepEqual(got.nomad, { ...f.nomad, key: `${f.nomad.allocId}.${f.nomad.task}` });
    else assert.equal(got.nomad, undefined);
  });
}

test('parsed attributions are frozen, since every later event shares them', () => {
  const got = parseCgroupPath(`/system.slice/docker-${ID}.scope`);
  assert.ok(Object.isFrozen(got));
  assert.ok(Object.isFrozen(got.container));
});
