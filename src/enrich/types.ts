// What enrichment adds to a kernel event: process, container, Nomad allocation, wall clock.

export interface ProcessInfo {
  pid: number;
  /** The executable's file name, as the kernel saw it or else from /proc/<pid>/exe; '' when neither could tell. */
  executableName: string;
  /** Full command line (bounded), '' when unreadable. */
  commandLine: string;
}

export type ContainerRuntime = 'docker' | 'containerd' | 'cri-o' | 'podman' | 'systemd' | 'nomad' | 'unknown';

export interface ContainerInfo {
  /** cgroup v2 path relative to the cgroup mount, e.g. /system.slice/docker-<id>.scope */
  cgroupPath: string;
  runtime?: ContainerRuntime;
  id?: string;
  /** systemd unit name when the cgroup is a unit (service/scope). */
  unit?: string;
}

export interface NomadInfo {
  allocId: string;
  task: string;
  job?: string;
  group?: string;
  namespace?: string;
}

export interface Enrichment {
  /** Wall clock, ms since the epoch (from the event's boot-time timestamp). */
  timeUnixMs: number;
  process?: ProcessInfo;
  container?: ContainerInfo;
  nomad?: NomadInfo;
}

/** A blank enrichment, for a caller that lets enrichInto() fill the same object event after event. */
export function emptyEnrichment(): Enrichment {
  return { timeUnixMs: 0, process: undefined, container: undefined, nomad: undefined };
}
