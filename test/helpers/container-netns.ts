// A container-like topology made by a test: one network namespace whose veth peer lives in the
// host namespace (as Docker, Nomad and CNI set them up), v4 and v6, removed after the test.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { programInfo } from '../../src/kernel/prog-info';
import { tcxPrograms } from '../../src/kernel/tcx';

export function sh(cmd: string, ...args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export interface ContainerNetns {
  /** the namespace, e.g. `nwsXc` */
  ns: string;
  /** the host-side veth (in the test's own namespace): what the agent attaches to */
  hostIf: string;
  /** the namespace-side veth */
  nsIf: string;
  host4: string;
  ns4: string;
  host6: string;
  ns6: string;
  hostIfindex: number;
  remove(): void;
}

/** Namespace `<prefix>c` with veth `<prefix>c0`, its peer `<prefix>h` in the host namespace; 10.<subnet>.0.0/24, fd00:<subnet>::/64. */
export function createContainerNetns(prefix: string, subnet: number): ContainerNetns {
  const ns = `${prefix}c`,
    hostIf = `${prefix}h`,
    nsIf = `${prefix}c0`;
  const remove = (): void => {
    try {
      sh('ip', 'link', 'del', hostIf);
    } catch {
      /* already gone */
    }
    try {
      sh('ip', 'netns', 'del', ns);
    } catch {
      /* already gone */
    }
  };
  remove();
  const host4 = `10.${subnet}.0.1`,
    ns4 = `10.${subnet}.0.2`,
    host6 = `fd00:${subnet}::1`,
    ns6 = `fd00:${subnet}::2`;
  try {
    sh('ip', 'netns', 'add', ns);
    sh('ip', 'link', 'add', hostIf, 'type', 'veth', 'peer', 'name', nsIf, 'netns', ns);
    sh('ip', 'addr', 'add', `${host4}/24`, 'dev', hostIf);
    sh('ip', 'addr', 'add', `${host6}/64`, 'dev', hostIf, 'nodad');
    sh('ip', 'link', 'set', hostIf, 'up');
    sh('ip', '-n', ns, 'addr', 'add', `${ns4}/24`, 'dev', nsIf);
    sh('ip', '-n', ns, 'addr', 'add', `${ns6}/64`, 'dev', nsIf, 'nodad');
    sh('ip', '-n', ns, 'link', 'set', nsIf, 'up');
    sh('ip', '-n', ns, 'link', 'set', 'lo', 'up');
    const hostIfindex = Number(readFileSync(`/sys/class/net/${hostIf}/ifindex`, 'utf8'));
    return { ns, hostIf, nsIf, host4, ns4, host6, ns6, hostIfindex, remove };
  } catch (e) {
    remove();
    throw e;
  }
}

/**
 * What runs on an interface's TC hooks: TCX programs as `tcx <name>` (in run order), then the clsact
 * qdisc's filters as `<pref> <kind>[ <bpf program name>]`, as `tc` reports them.
 */
export function tcState(dev: string): { clsact: boolean; ingress: string[]; egress: string[] } {
  const ifindex = Number(readFileSync(`/sys/class/net/${dev}/ifindex`, 'utf8'));
  const tcx = (dir: 'ingress' | 'egress'): string[] => tcxPrograms(ifindex, dir).map((id) => `tcx ${programInfo(id)?.name ?? `#${id}`}`);
  const filters = (dir: string): string[] => {
    const out = new Map<string, string>();
    for (const l of sh('tc', 'filter', 'show', 'dev', dev, dir).split('\n')) {
      const m = /^filter .*pref (\d+) (\w+)/.exec(l);
      if (!m) continue;
      const key = `${m[1]} ${m[2]}`;
      const name = / name (\S+)/.exec(l)?.[1];
      if (name || !out.has(key)) out.set(key, name ? `${key} ${name}` : key);
    }
    return [...out.values()];
  };
  const clsact = /qdisc clsact/.test(sh('tc', 'qdisc', 'show', 'dev', dev));
  return { clsact, ingress: [...tcx('ingress'), ...(clsact ? filters('ingress') : [])], egress: [...tcx('egress'), ...(clsact ? filters('egress') : [])] };
}

/** tcState of an interface in network namespace `ns` (read by a process started there). */
export function tcStateIn(ns: string, dev: string): { clsact: boolean; ingress: string[]; egress: string[] } {
  return JSON.parse(sh('ip', 'netns', 'exec', ns, process.execPath, join(__dirname, 'tc-state.js'), dev)) as ReturnType<typeof tcState>;
}
