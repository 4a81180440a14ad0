// Pipeline events of every source for pipeline tests, with every field set and overridable.
import type { ConnPipelineEvent, PacketFateCountEvent, PacketFateSampleEvent, SniPipelineEvent } from '../../../src/pipeline/event';

export function connEvent(overrides: Partial<ConnPipelineEvent> = {}): ConnPipelineEvent {
  return {
    source: 'connections',
    receiver: 'connections',
    kind: 'connect',
    bootNs: 1,
    sock: 1n,
    pid: 42,
    tid: 42,
    exe: 'curl',
    cgroupId: 1,
    netns: 1,
    transport: 'tcp',
    networkType: 'ipv4',
    direction: 'outbound',
    localAddress: '10.0.0.2',
    localPort: 40000,
    remoteAddress: '93.184.216.34',
    remotePort: 443,
    oldState: 'unknown',
    newState: 'unknown',
    bytesSent: 0,
    bytesReceived: 0,
    srttUs: 0,
    retransmits: 0,
    durationNs: 0,
    error: 0,
    counts: undefined,
    timeUnixMs: 0,
    ...overrides,
  };
}

/** An SNI receiver event (a ClientHello seen leaving this host), every field set and overridable. */
export function sniEvent(overrides: Partial<SniPipelineEvent> = {}): SniPipelineEvent {
  return {
    source: 'sni',
    receiver: 'sni',
    kind: 'client_hello',
    bootNs: 1,
    readAtNs: 1n,
    networkType: 'ipv4',
    direction: 'egress',
    interfaceName: 'eth0',
    ifindex: 2,
    netns: 1,
    clientAddress: '10.0.0.2',
    clientPort: 40000,
    serverAddress: '93.184.216.34',
    serverPort: 443,
    pid: 42,
    process: { pid: 42, executableName: 'curl', commandLine: '' },
    cgroupId: 1,
    serverName: 'app.example.com',
    ech: false,
    alpn: ['h2'],
    versions: [0x0304],
    sslv2: false,
    timeUnixMs: 0,
    ...overrides,
  };
}

/** One interval's count of one packet_fate key (a drop by default), every field set and overridable. */
export function fateCount(overrides: Partial<PacketFateCountEvent> = {}): PacketFateCountEvent {
  return {
    source: 'packet_fate',
    receiver: 'packet_fate',
    record: 'count',
    kind: 'drop',
    reason: 'NETFILTER_DROP',
    networkType: 'ipv4',
    transport: 'tcp',
    state: undefined,
    netns: 4026531840,
    ifindex: 2,
    interfaceName: 'eth0',
    pid: 42,
    comm: 'curl',
    process: { pid: 42, executableName: 'curl', commandLine: '' },
    cgroupId: 1,
    count: 1,
    overflow: false,
    timeUnixMs: 0,
    ...overrides,
  };
}

/** One sampled packet_fate record (a dropped SYN from 10.0.0.2:40000 to 93.184.216.34:443 by default). */
export function fateSample(overrides: Partial<PacketFateSampleEvent> = {}): PacketFateSampleEvent {
  return {
    source: 'packet_fate',
    receiver: 'packet_fate',
    record: 'sample',
    kind: 'drop',
    reason: 'NETFILTER_DROP',
    networkType: 'ipv4',
    transport: 'tcp',
    state: undefined,
    netns: 4026531840,
    ifindex: 2,
    interfaceName: 'eth0',
    pid: 42,
    comm: 'curl',
    process: { pid: 42, executableName: 'curl', commandLine: '' },
    cgroupId: 1,
    bootNs: 1,
    epoch: 0,
    sock: 1n,
    tid: 42,
    location: 0xffffffff81234567n,
    locationName: 'nf_hook_slow+0x4c',
    length: 60,
    sourceAddress: '10.0.0.2',
    sourcePort: 40000,
    destinationAddress: '93.184.216.34',
    destinationPort: 443,
    tcpFlags: 0x02,
    timeUnixMs: 0,
    ...overrides,
  };
}
