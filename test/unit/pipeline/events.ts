// A connection event for pipeline tests, with every field set and overridable.
import type { ConnPipelineEvent } from '../../../src/pipeline/event';

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
