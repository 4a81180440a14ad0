// Every network namespace on the host, for the socket iterator (which sees one namespace per
// pass): one /proc/<pid>/ns/net per namespace a process lives in, and the /run/netns bind mounts
// of namespaces no process has entered. Nothing is held open between collections: a namespace
// the agent kept a descriptor of would outlive its removal (and its devices with it).
import { readdirSync, statSync } from 'node:fs';

const NAMED = '/run/netns';

function inodeOf(path: string): number | undefined {
  try {
    return statSync(path).ino;
  } catch {
    return undefined;
  }
}

/** namespace inode → a path that opens it, the agent's own namespace left out. */
export function otherNetworkNamespaces(procRoot = '/proc'): Map<number, string> {
  const own = inodeOf(`${procRoot}/self/ns/net`);
  const out = new Map<number, string>();
  let pids: string[];
  try {
    pids = readdirSync(procRoot).filter((d) => d.charCodeAt(0) >= 48 && d.charCodeAt(0) <= 57);
  } catch {
    return out;
  }
  for (const pid of pids) {
    const path = `${procRoot}/${pid}/ns/net`;
    const ino = inodeOf(path);
    if (ino !== undefined && ino !== own && !out.has(ino)) out.set(ino, path);
  }
  let named: string[] = [];
  try {
    named = readdirSync(NAMED);
  } catch {
    // no named namespaces
  }
  for (const n of named) {
    const path = `${NAMED}/${n}`;
    const ino = inodeOf(path);
    if (ino !== undefined && ino !== own && !out.has(ino)) out.set(ino, path);
  }
  return out;
}
