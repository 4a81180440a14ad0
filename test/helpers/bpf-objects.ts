// Which BPF programs and links a process holds, read from /proc/<pid>/fd and fdinfo, and whether
// they still exist: lets a test check its own objects without being confused by anyone else's.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/**
 * Programs each probe loads, each attached through its own link (TC programs: one link per
 * interface and direction). conn: the state tracepoint, two accept exits, cgroup_mkdir, the
 * connect4/connect6 cgroup hooks and the tcp socket iterator.
 */
export const PROGRAMS = { conn: 7, packet_fate: 5, sni: 2 } as const;

export interface HeldObjects {
  progIds: number[];
  linkIds: number[];
}

export function heldBpfObjects(pid: number): HeldObjects {
  const progIds = new Set<number>();
  const linkIds = new Set<number>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    let target: string;
    try {
      target = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue;
    }
    if (!target.startsWith('anon_inode:bpf')) continue;
    let info: string;
    try {
      info = readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8');
    } catch {
      continue;
    }
    const prog = /^prog_id:\s+(\d+)/m.exec(info);
    const link = /^link_id:\s+(\d+)/m.exec(info);
    if (link) linkIds.add(Number(link[1]));
    else if (prog) progIds.add(Number(prog[1]));
  }
  return { progIds: [...progIds].sort((a, b) => a - b), linkIds: [...linkIds].sort((a, b) => a - b) };
}

/** The ids among `ids` that the kernel still has (`bpftool prog|link show id N` succeeds). */
export function stillExisting(kind: 'prog' | 'link', ids: number[]): number[] {
  return ids.filter((id) => {
    try {
      execFileSync('bpftool', [kind, 'show', 'id', String(id)], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  });
}
