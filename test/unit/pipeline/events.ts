// A connection event for pipeline tests, with every field set and overridable.
import type { ConnPipelineEvent, SniPipelineEvent } from '../../../src/pipeline/event';

export function connEvent(overrides: Partial<ConnPipelineEvent> = {}): ConnPipelineEvent {
  return {
    source: 'connections',
    receiver: 'connections',
    kind: 'connect',
    bootNs: 1,
    sock: 1n,
    pid: 42,
    tid: 42,
    comm: 'curl',
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
    comm: 'curl',
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
