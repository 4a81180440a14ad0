// One include/exclude rule of the filter processor: given fields AND together, list items OR.
import type convict from 'convict';
import type { FilterRule } from '../types';

type Settings = { -readonly [K in keyof FilterRule]: FilterRule[K] extends readonly (infer T)[] ? T[] : never };

export const FILTER_RULE_FIELDS = ['process', 'container_id', 'container_runtime', 'nomad_job', 'ports', 'cidrs', 'direction', 'transport'] as const;

export const filterRuleSchema: convict.Schema<Settings> = {
  process: {
    doc: "Executable names: the file name the kernel read from the owner's mm->exe_file, else the basename of /proc/<pid>/exe (never a thread's comm); * matches any run of characters; an owner whose executable is unknown matches none.",
    format: 'nw.name-list',
    default: [],
  },
  container_id: { doc: 'Container ids (full or with *).', format: 'nw.name-list', default: [] },
  container_runtime: { doc: 'Container runtimes: docker, containerd, cri-o, podman, systemd, nomad, unknown.', format: 'nw.runtime-list', default: [] },
  nomad_job: { doc: 'Nomad job ids; * matches any run of characters.', format: 'nw.name-list', default: [] },
  ports: { doc: 'Server ports: the remote port of outbound connections, the local port of inbound ones.', format: 'nw.port-list', default: [] },
  cidrs: { doc: 'Peer (remote) address ranges, IPv4 or IPv6, e.g. 10.0.0.0/8 or fd00::/8.', format: 'nw.cidr-list', default: [] },
  direction: { doc: 'outbound (this host connected) or inbound (this host accepted).', format: 'nw.direction-list', default: [] },
  transport: { doc: 'tcp or udp.', format: 'nw.transport-list', default: [] },
};

export function toFilterRule(s: Settings): FilterRule {
  return {
    process: s.process,
    container_id: s.container_id,
    container_runtime: s.container_runtime,
    nomad_job: s.nomad_job,
    ports: s.ports,
    cidrs: s.cidrs,
    direction: s.direction,
    transport: s.transport,
  };
}

export const isEmptyRule = (r: FilterRule): boolean => FILTER_RULE_FIELDS.every((f) => r[f].length === 0);
