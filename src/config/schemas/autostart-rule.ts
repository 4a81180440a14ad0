// One rule of the nomad_autostart processor: what wakes it (sni, syn_to_port, connect_to; any of
// them), which clients may (every other match key given), and what it does to which Nomad group.
import type convict from 'convict';
import { InternalError } from '../../errors';
import { parseDestination } from '../destination';
import { parseDuration } from '../duration';
import { joinPath, type Problem } from '../problems';
import { checkSection } from '../section';
import type { AutostartRule, WaitFor } from '../types';

interface MatchSettings {
  sni: string[];
  ports: number[];
  syn_to_port: number | number[];
  connect_to: string[];
  interface: string[];
  cidrs: string[];
  process: string[];
  container_id: string[];
  container_runtime: string[];
  nomad_job: string[];
  nomad_namespace: string[];
}

interface RuleSettings {
  name: string;
  match: MatchSettings;
  job: string;
  group: string;
  namespace: string;
  count: number;
  wait_for: WaitFor;
  wait_timeout: string;
  idle_after: string | null;
  idle_scale_down: 'woken' | 'any';
  start_stopped: boolean;
  hold_syn: boolean;
  cooldown: string;
}

export const TRIGGER_KEYS = ['sni', 'syn_to_port', 'connect_to'] as const;

export const autostartRuleSchema: convict.Schema<RuleSettings> = {
  name: { doc: "Names the rule in logs, metrics and Nomad's scaling history; unique within the processor (required).", format: 'nw.text', default: '' },
  match: {
    sni: {
      doc: 'Trigger: a TLS ClientHello (from the sni receiver) naming one of these servers, exact or `*.example.com` (any name below example.com, not example.com itself).',
      format: 'nw.server-name-list',
      default: [],
    },
    ports: {
      doc: 'Server ports an sni trigger must be sent to; with idle_after, open connections to these ports (from the connections receiver) keep the group awake.',
      format: 'nw.port-list',
      default: [],
    },
    syn_to_port: {
      doc: 'Trigger: a TCP SYN to this port (or list of ports) seen by the sni receiver, answered or not: it works with nothing listening.',
      format: 'nw.port-or-list',
      default: [],
    },
    connect_to: {
      doc: 'Trigger: a local process calling connect() to one of these (from the connections receiver): `ADDRESS:PORT` with an IP, a CIDR, `[IPv6]` or `*`, e.g. 10.1.0.5:5432.',
      format: 'nw.destination-list',
      default: [],
    },
    interface: { doc: 'Only packets seen on these interfaces (sni and syn_to_port triggers).', format: 'nw.interface-list', default: [] },
    cidrs: { doc: 'Only clients in these address ranges (for connect_to: the local address of the connecting socket).', format: 'nw.cidr-list', default: [] },
    process: {
      doc: 'Only local clients whose executable name matches; * matches any run of characters; a client whose executable is unknown matches none.',
      format: 'nw.name-list',
      default: [],
    },
    container_id: { doc: 'Only local clients in these containers (full ids or with *).', format: 'nw.name-list', default: [] },
    container_runtime: {
      doc: 'Only local clients under these runtimes: docker, containerd, cri-o, podman, systemd, nomad, unknown.',
      format: 'nw.runtime-list',
      default: [],
    },
    nomad_job: { doc: 'Only local clients running in allocations of these Nomad jobs; * matches any run of characters.', format: 'nw.name-list', default: [] },
    nomad_namespace: { doc: 'Only local clients running in allocations in these Nomad namespaces.', format: 'nw.name-list', default: [] },
  },
  job: { doc: 'The Nomad job to wake (required).', format: 'nw.text', default: '' },
  group: { doc: 'The task group of the job to scale (required).', format: 'nw.text', default: '' },
  namespace: { doc: "Nomad namespace of the job; empty: the processor's namespace (NOMAD_NAMESPACE), else default.", format: 'nw.text', default: '' },
  count: { doc: 'Count a wake sets when the group is below it; a count someone set higher is never lowered.', format: 'nw.count', default: 1 },
  wait_for: {
    doc: 'After a wake, wait (blocking queries on the scale status) until count allocations are running, or healthy, or none: do not wait.',
    format: 'nw.wait-for',
    default: 'running',
  },
  wait_timeout: { doc: 'Stop waiting for readiness after this long (reported as not ready).', format: 'nw.duration', default: '5m' },
  idle_after: {
    doc: "Scale the group back to 0 after this long with no matching traffic and no open connections to the rule's ports; leave out to never scale down.",
    format: 'nw.optional-duration',
    default: null,
  },
  idle_scale_down: {
    doc: 'With idle_after: woken puts back to sleep only groups this agent woke; any also groups someone else scaled up.',
    format: 'nw.idle-scale-down',
    default: 'woken',
  },
  start_stopped: {
    doc: 'When the job is stopped, start it (re-register it with Stop=false; the token then needs submit-job). Otherwise a stopped job is left alone.',
    format: 'nw.bool',
    default: false,
  },
  hold_syn: {
    doc: "While the group is at 0 and while it wakes, drop (not refuse) SYNs to the rule's syn_to_port ports on which nothing listens on this node, so the first client's TCP retransmits until the woken task listens: the hold ends at the first SYN that finds a listener, when the wake fails, or after wait_timeout. Needs warm state (Nomad 1.8.2+ and read-job).",
    format: 'nw.bool',
    default: false,
  },
  cooldown: {
    doc: 'After a wake (whatever its outcome), traffic for the same group calls Nomad again only after this long.',
    format: 'nw.duration',
    default: '10s',
  },
};

const required = (s: string): boolean => s.trim() !== '';

/** Checks one rule; returns it when it has no problems (they go to `problems`). */
export function checkAutostartRule(raw: unknown, path: string, defaultNamespace: string, problems: Problem[]): AutostartRule | undefined {
  const r = checkSection(
    { schema: autostartRuleSchema, expected: 'a rule (a mapping) such as {name: web, match: {sni: [app.example.com]}, job: web, group: web}' },
    raw,
    path,
  );
  problems.push(...r.problems);
  const s = r.value;
  if (!s) return undefined;
  const before = problems.length;
  const at = (key: string): string => joinPath(path, key);
  if (!r.invalid.has('name') && !required(s.name))
    problems.push({ path: at('name'), message: "is required: a name for this rule (it is written in logs, metrics and Nomad's scaling history)" });
  if (!r.invalid.has('job') && !required(s.job)) problems.push({ path: at('job'), message: 'is required: the Nomad job this rule wakes' });
  if (!r.invalid.has('group') && !required(s.group)) problems.push({ path: at('group'), message: 'is required: the task group of the job to scale' });
  const m = s.match;
  const synPorts = Array.isArray(m.syn_to_port) ? m.syn_to_port : [m.syn_to_port];
  const hasTrigger = m.sni.length > 0 || synPorts.length > 0 || m.connect_to.length > 0;
  // A misspelt or malformed trigger is reported already; "no trigger" would only repeat it.
  const triggersValid = TRIGGER_KEYS.every((k) => !r.invalid.has(`match.${k}`)) && !r.problems.some((p) => p.path.startsWith(at('match.')));
  if (!hasTrigger && triggersValid) {
    problems.push({ path, message: 'has no trigger; give at least one of match.sni, match.syn_to_port, match.connect_to' });
  }
  if (m.interface.length > 0 && m.sni.length === 0 && synPorts.length === 0 && triggersValid) {
    problems.push({
      path: at('match.interface'),
      message:
        'applies only to sni and syn_to_port triggers (packets seen on an interface); connect_to is seen at the socket, so remove interface or add an sni or syn_to_port trigger',
    });
  }
  if (s.idle_scale_down === 'any' && s.idle_after === null && !r.invalid.has('idle_after')) {
    problems.push({
      path: at('idle_scale_down'),
      message: 'is "any", but idle_after is not set, so nothing is ever scaled down; set idle_after or remove idle_scale_down',
    });
  }
  if (s.hold_syn && synPorts.length === 0 && triggersValid) {
    problems.push({
      path: at('hold_syn'),
      message: 'holds SYNs to the syn_to_port ports, and this rule has none: add match.syn_to_port (the ports to hold) or remove hold_syn',
    });
  }
  if (problems.length > before || r.problems.length > 0) return undefined;
  return {
    name: s.name.trim(),
    match: {
      sni: [...new Set(m.sni.map((n) => n.toLowerCase()))],
      ports: [...new Set(m.ports)],
      syn_to_port: [...new Set(synPorts)],
      connect_to: m.connect_to.map((d) => {
        const parsed = parseDestination(d);
        if (!parsed.ok) throw new InternalError(parsed.message); // the format already checked it
        return parsed.value;
      }),
      interface: m.interface,
      cidrs: m.cidrs,
      process: m.process,
      container_id: m.container_id,
      container_runtime: m.container_runtime,
      nomad_job: m.nomad_job,
      nomad_namespace: m.nomad_namespace,
    },
    job: s.job,
    group: s.group,
    namespace: s.namespace !== '' ? s.namespace : defaultNamespace,
    count: s.count,
    wait_for: s.wait_for,
    wait_timeout_ms: parseDuration(s.wait_timeout)!,
    idle_after_ms: s.idle_after === null ? 0 : parseDuration(s.idle_after)!,
    idle_scale_down: s.idle_scale_down,
    start_stopped: s.start_stopped,
    hold_syn: s.hold_syn,
    cooldown_ms: parseDuration(s.cooldown)!,
  };
}

/** A rule name may appear once; later duplicates are reported against the first. */
export function checkRuleNames(rules: readonly { index: number; name: string }[], rulesPath: string, problems: Problem[]): void {
  const first = new Map<string, number>();
  for (const { index, name } of rules) {
    const seen = first.get(name);
    if (seen === undefined) first.set(name, index);
    else
      problems.push({
        path: joinPath(joinPath(rulesPath, index), 'name'),
        message: `${JSON.stringify(name)} is already the name of rules[${seen}]; rule names must be unique`,
      });
  }
}
