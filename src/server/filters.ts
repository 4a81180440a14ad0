// Query parameters → one predicate over pipeline events. The fields mean what they mean in the
// filter processor's rules (process, container, Nomad job, server port, peer CIDR, direction,
// transport), so `?port=443` here and `ports: [443]` in agent.yaml select the same events; `process`
// matches the executable name the answer shows (processNameOf), which enrichment makes the same name.
import type { FilterRule } from '../config/types';
import type { PipelineEvent } from '../pipeline/event';
import { compileRule } from '../pipeline/processors/filter/rule';
import { compileNames } from '../pipeline/processors/filter/glob';
import type { ParsedParams, ParamSpec } from './params';
import { processNameOf } from './views';

/** Filters every event route takes. */
export const COMMON_FILTERS: readonly ParamSpec[] = [
  { name: 'pid', type: { kind: 'integer', min: 1, max: 2 ** 32 - 1 }, description: 'Process id of the local socket owner.', example: '4242' },
  {
    name: 'process',
    type: { kind: 'names' },
    description:
      'Executable names (comma-separated, `*` wildcard), as the kernel recorded them, else as /proc showed them; an owner whose executable is unknown matches none.',
    example: 'curl',
  },
  { name: 'container', type: { kind: 'names' }, description: 'Container ids or id prefixes (comma-separated, `*` wildcard).', example: '3f2a9c' },
  { name: 'nomad_job', type: { kind: 'names' }, description: 'Nomad job names (comma-separated, `*` wildcard).', example: 'web' },
  {
    name: 'port',
    type: { kind: 'ports' },
    description: 'Server ports (the remote port of outbound connections, the local port of inbound ones).',
    example: '443',
  },
  {
    name: 'peer',
    type: { kind: 'cidrs' },
    description: 'Peer addresses or CIDRs (comma-separated): the other end as seen from this host.',
    example: '10.0.0.0/8',
  },
  {
    name: 'direction',
    type: { kind: 'enum', values: ['outbound', 'inbound'] },
    description: 'Outbound (a local client) or inbound (a local server); SNI egress counts as outbound.',
  },
  {
    name: 'since',
    type: { kind: 'time' },
    description: 'Only events at or after this: a duration back from now (`60s`, `5m`) or an RFC 3339 time.',
    example: '60s',
  },
  { name: 'until', type: { kind: 'time' }, description: 'Only events at or before this: a duration back from now or an RFC 3339 time.' },
];

const list = <T>(p: ParsedParams, name: string): readonly T[] => (p[name] as readonly T[] | undefined) ?? [];

/** Container ids are 64 hex digits; people type the first 12, as `docker ps` shows them. */
const asPrefix = (id: string): string => (id.includes('*') ? id : `${id}*`);

export function compileEventFilter(p: ParsedParams, extra: readonly ((ev: PipelineEvent) => boolean)[] = []): (ev: PipelineEvent) => boolean {
  const rule: FilterRule = {
    process: [], // below, on the name the answer shows
    container_id: list<string>(p, 'container').map(asPrefix),
    container_runtime: [],
    nomad_job: list<string>(p, 'nomad_job'),
    ports: list<number>(p, 'port'),
    cidrs: list<string>(p, 'peer'),
    direction: list<'outbound' | 'inbound'>(p, 'direction'),
    transport: list<'tcp' | 'udp'>(p, 'transport'),
  };
  const checks = [compileRule(rule), ...extra];
  const processes = list<string>(p, 'process');
  if (processes.length) {
    const m = compileNames(processes);
    checks.push((ev) => {
      const name = processNameOf(ev);
      return name !== '' && m(name); // an unknown executable matches no name, not even *
    });
  }
  const pid = p.pid as number | undefined;
  if (pid !== undefined) checks.push((ev) => ev.pid === pid);
  return (ev) => checks.every((c) => c(ev));
}

/** `server_name` of SNI events: exact names or `*` wildcards, lower-cased as the events are. */
export function serverNameFilter(p: ParsedParams): ((ev: PipelineEvent) => boolean) | undefined {
  const names = list<string>(p, 'server_name');
  if (!names.length) return undefined;
  const m = compileNames(names.map((n) => n.toLowerCase()));
  return (ev) => ev.source === 'sni' && ev.serverName !== undefined && m(ev.serverName);
}
