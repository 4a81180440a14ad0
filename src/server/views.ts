// Pipeline events as the query API returns them: snake_case JSON, wall-clock times in RFC 3339,
// the socket address as hex (a JSON number cannot hold a u64), errno as its name.
import type { ConnPipelineEvent, PipelineEvent, SniPipelineEvent } from '../pipeline/event';
import type { Enrichment } from '../enrich/types';
import { errnoName } from '../wire/errno-names';

/**
 * The executable: what the kernel recorded when it happened (connections' `exe`), else what
 * enrichment read from /proc; '' when neither could tell. A thread's comm is never taken for it.
 */
export const processNameOf = (ev: PipelineEvent): string => (ev.source === 'connections' && ev.exe) || ev.process?.executableName || '';

/** The owner; `comm` is the kernel's thread name where a probe reports one (sni), never the executable. */
function attribution(ev: (ConnPipelineEvent | SniPipelineEvent) & Enrichment & { pid: number; comm?: string }) {
  const name = processNameOf(ev);
  return {
    process: ev.pid > 0 || name !== '' ? { pid: ev.pid, executable_name: name, comm: ev.comm ?? '', command_line: ev.process?.commandLine ?? '' } : null,
    container: ev.container
      ? { id: ev.container.id ?? null, runtime: ev.container.runtime ?? null, cgroup_path: ev.container.cgroupPath, unit: ev.container.unit ?? null }
      : null,
    nomad: ev.nomad
      ? { alloc_id: ev.nomad.allocId, task: ev.nomad.task, job: ev.nomad.job ?? null, group: ev.nomad.group ?? null, namespace: ev.nomad.namespace ?? null }
      : null,
  };
}

export type ConnectionView = ReturnType<typeof connectionView>;

export function connectionView(ev: ConnPipelineEvent) {
  return {
    time: new Date(ev.timeUnixMs).toISOString(),
    time_unix_ms: ev.timeUnixMs,
    receiver: ev.receiver,
    kind: ev.kind,
    transport: ev.transport,
    network_type: ev.networkType,
    direction: ev.direction,
    local: { address: ev.localAddress, port: ev.localPort },
    remote: { address: ev.remoteAddress, port: ev.remotePort },
    state: ev.newState,
    previous_state: ev.oldState,
    ...attribution(ev),
    netns: ev.netns,
    socket: `0x${ev.sock.toString(16)}`,
    bytes_sent: ev.bytesSent,
    bytes_received: ev.bytesReceived,
    rtt_us: ev.srttUs,
    retransmits: ev.retransmits,
    duration_s: ev.durationNs / 1e9,
    error: ev.error ? errnoName(ev.error) : null,
  };
}

export type SniView = ReturnType<typeof sniView>;

export function sniView(ev: SniPipelineEvent) {
  return {
    time: new Date(ev.timeUnixMs).toISOString(),
    time_unix_ms: ev.timeUnixMs,
    receiver: ev.receiver,
    kind: ev.kind,
    server_name: ev.serverName ?? null,
    network_type: ev.networkType,
    direction: ev.direction,
    interface: ev.interfaceName,
    ifindex: ev.ifindex,
    netns: ev.netns,
    client: { address: ev.clientAddress, port: ev.clientPort },
    server: { address: ev.serverAddress, port: ev.serverPort },
    ...attribution(ev),
    ech: ev.ech,
    alpn: [...ev.alpn],
    tls_versions: ev.versions.map((v) => `0x${v.toString(16).padStart(4, '0')}`),
    sslv2: ev.sslv2,
  };
}
