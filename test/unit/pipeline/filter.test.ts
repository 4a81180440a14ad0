import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FilterProcessorConfig, FilterRule } from '../../../src/config/types';
import type { PipelineEvent } from '../../../src/pipeline/event';
import { FilterProcessor } from '../../../src/pipeline/processors/filter/processor';
import { connEvent, fateCount, fateSample, sniEvent } from './events';

const rule = (r: Partial<FilterRule>): FilterRule => ({
  process: [],
  container_id: [],
  container_runtime: [],
  nomad_job: [],
  ports: [],
  cidrs: [],
  direction: [],
  transport: [],
  ...r,
});
const filter = (include: Partial<FilterRule>[], exclude: Partial<FilterRule>[] = []): FilterProcessor =>
  new FilterProcessor({ type: 'filter', id: 'filter', include: include.map(rule), exclude: exclude.map(rule) } satisfies FilterProcessorConfig);

const docker = { cgroupPath: '/system.slice/docker-abc123.scope', runtime: 'docker' as const, id: 'abc123' };

/** [what, include rule, event, kept?] — each row is one include rule against one event. */
const MATCHES: [string, Partial<FilterRule>, PipelineEvent, boolean][] = [
  [
    'process matches the executable name',
    { process: ['nginx'] },
    connEvent({ process: { pid: 1, executableName: 'nginx', commandLine: '' }, exe: 'nginx: worker' }),
    true,
  ],
  ["process falls back to the kernel's exe without process info", { process: ['curl'] }, connEvent({ exe: 'curl' }), true],
  ['process matches nothing, not even *, when neither the kernel nor /proc named the executable', { process: ['*'] }, connEvent({ exe: '' }), false],
  ['process does not match another name', { process: ['nginx'] }, connEvent({ exe: 'curl' }), false],
  ['a * glob matches a suffix', { process: ['python3*'] }, connEvent({ exe: 'python3.12' }), true],
  ['a * glob in the middle matches', { process: ['py*12'] }, connEvent({ exe: 'python3.12' }), true],
  ['a glob does not match a name missing its prefix', { process: ['python3*'] }, connEvent({ exe: 'ipython3' }), false],
  ['container_id matches', { container_id: ['abc*'] }, connEvent({ container: docker }), true],
  ['container_id needs a container', { container_id: ['*'] }, connEvent(), false],
  ['container_runtime matches', { container_runtime: ['docker'] }, connEvent({ container: docker }), true],
  ['container_runtime is exact', { container_runtime: ['podman'] }, connEvent({ container: docker }), false],
  ['nomad_job matches', { nomad_job: ['web*'] }, connEvent({ nomad: { allocId: 'a', task: 't', job: 'web-api' } }), true],
  ['nomad_job needs a job', { nomad_job: ['web'] }, connEvent({ nomad: { allocId: 'a', task: 't' } }), false],
  ['ports match the remote port of an outbound connection', { ports: [443] }, connEvent({ direction: 'outbound', remotePort: 443, localPort: 40000 }), true],
  ['ports ignore the local port of an outbound connection', { ports: [40000] }, connEvent({ direction: 'outbound', remotePort: 443, localPort: 40000 }), false],
  ['ports match the local port of an inbound connection', { ports: [8080] }, connEvent({ direction: 'inbound', localPort: 8080, remotePort: 51000 }), true],
  ['ports ignore the remote port of an inbound connection', { ports: [51000] }, connEvent({ direction: 'inbound', localPort: 8080, remotePort: 51000 }), false],
  ['ports match either side when the direction is unknown', { ports: [8080] }, connEvent({ direction: 'unknown', localPort: 8080, remotePort: 1 }), true],
  ['cidrs match an IPv4 peer', { cidrs: ['93.184.0.0/16'] }, connEvent(), true],
  ['cidrs match an IPv6 peer', { cidrs: ['2001:db8::/32'] }, connEvent({ remoteAddress: '2001:db8::5', networkType: 'ipv6' }), true],
  ['cidrs match a v4-mapped IPv6 peer', { cidrs: ['127.0.0.0/8'] }, connEvent({ remoteAddress: '::ffff:127.0.0.1', networkType: 'ipv6' }), true],
  ['cidrs look at the peer, not the local address', { cidrs: ['10.0.0.0/8'] }, connEvent({ localAddress: '10.0.0.2', remoteAddress: '93.184.216.34' }), false],
  ['direction matches', { direction: ['inbound'] }, connEvent({ direction: 'inbound' }), true],
  ['direction does not match unknown', { direction: ['outbound', 'inbound'] }, connEvent({ direction: 'unknown' }), false],
  ['transport matches', { transport: ['udp'] }, connEvent({ transport: 'udp' }), true],
  ['transport does not match the other', { transport: ['udp'] }, connEvent({ transport: 'tcp' }), false],
  ['all fields of a rule must match', { process: ['curl'], ports: [80] }, connEvent({ exe: 'curl', remotePort: 443 }), false],
  ['any item of a field may match', { process: ['wget', 'curl'], ports: [80, 443] }, connEvent({ exe: 'curl', remotePort: 443 }), true],
  ['ports match the server port of a ClientHello', { ports: [443] }, sniEvent({ serverPort: 443, clientPort: 40000 }), true],
  ['ports ignore the client port of a ClientHello', { ports: [40000] }, sniEvent({ serverPort: 443, clientPort: 40000 }), false],
  [
    'cidrs match the server of a hello leaving this host',
    { cidrs: ['93.184.0.0/16'] },
    sniEvent({ direction: 'egress', serverAddress: '93.184.216.34' }),
    true,
  ],
  [
    'cidrs match the client of a hello arriving here',
    { cidrs: ['192.0.2.0/24'] },
    sniEvent({ direction: 'ingress', clientAddress: '192.0.2.7', serverAddress: '10.0.0.2' }),
    true,
  ],
  ['egress hellos are outbound', { direction: ['outbound'] }, sniEvent({ direction: 'egress' }), true],
  ['ingress hellos are not outbound', { direction: ['outbound'] }, sniEvent({ direction: 'ingress' }), false],
  ['hellos travel over tcp', { transport: ['udp'] }, sniEvent(), false],
  ['process matches the owner of a dropped packet', { process: ['nginx'] }, fateCount({ process: { pid: 1, executableName: 'nginx', commandLine: '' } }), true],
  ["a reset owner's comm is not its executable name", { process: ['curl'] }, fateSample({ kind: 'reset_received', comm: 'curl', process: undefined }), false],
  ['container_id matches the container of a drop count', { container_id: ['abc*'] }, fateCount({ container: docker }), true],
  [
    'nomad_job matches the job of a retransmit',
    { nomad_job: ['web'] },
    fateCount({ kind: 'retransmit', nomad: { allocId: 'a', task: 't', job: 'web' } }),
    true,
  ],
  ['transport matches a dropped udp packet', { transport: ['udp'] }, fateCount({ transport: 'udp' }), true],
  ['transport does not match an icmp drop', { transport: ['tcp', 'udp'] }, fateCount({ transport: 'icmp' }), false],
  ['ports match the destination port of a sampled drop', { ports: [443] }, fateSample({ sourcePort: 40000, destinationPort: 443 }), true],
  ['ports match the source port of a sampled reset', { ports: [8080] }, fateSample({ kind: 'reset_sent', sourcePort: 8080, destinationPort: 51000 }), true],
  ['ports never match a count, which has no ports', { ports: [443] }, fateCount(), false],
  [
    'cidrs match either address of a sampled packet',
    { cidrs: ['10.0.0.0/8'] },
    fateSample({ sourceAddress: '10.0.0.2', destinationAddress: '93.184.216.34' }),
    true,
  ],
  ['cidrs never match a count, which has no addresses', { cidrs: ['0.0.0.0/0'] }, fateCount(), false],
  [
    'cidrs do not match a packet without addresses',
    { cidrs: ['0.0.0.0/0', '::/0'] },
    fateSample({ networkType: undefined, sourceAddress: '', destinationAddress: '' }),
    false,
  ],
  ['packets have no direction', { direction: ['outbound', 'inbound'] }, fateSample(), false],
];

for (const [what, include, ev, kept] of MATCHES) {
  test(`filter: ${what}`, () => {
    assert.equal(filter([include]).process(ev), kept);
  });
}

test('filter: with no include rules everything not excluded is kept', () => {
  const f = filter([], [{ cidrs: ['127.0.0.0/8', '::1/128'] }]);
  assert.equal(f.process(connEvent({ remoteAddress: '127.0.0.1' })), false);
  assert.equal(f.process(connEvent({ remoteAddress: '::1' })), false);
  assert.equal(f.process(connEvent({ remoteAddress: '10.1.1.1' })), true);
});

test('filter: one matching include rule is enough', () => {
  const f = filter([{ process: ['nginx'] }, { ports: [443] }]);
  assert.equal(f.process(connEvent({ exe: 'curl', remotePort: 443 })), true);
  assert.equal(f.process(connEvent({ exe: 'curl', remotePort: 80 })), false);
});

test('filter: exclude wins over include', () => {
  const f = filter([{ process: ['curl'] }], [{ ports: [443] }]);
  assert.equal(f.process(connEvent({ exe: 'curl', remotePort: 443 })), false);
  assert.equal(f.process(connEvent({ exe: 'curl', remotePort: 80 })), true);
});

test('filter: excluding loopback drops sampled loopback packets but keeps the counts, which carry no addresses', () => {
  const f = filter([], [{ cidrs: ['127.0.0.0/8', '::1/128'] }]);
  assert.equal(f.process(fateSample({ sourceAddress: '127.0.0.1', destinationAddress: '127.0.0.1' })), false);
  assert.equal(f.process(fateSample({ sourceAddress: '10.0.0.1', destinationAddress: '10.0.0.2' })), true);
  assert.equal(f.process(fateCount({ interfaceName: 'lo' })), true);
});
