// Spawning the traffic child (test/helpers/traffic.ts), optionally inside a network namespace
// or a cgroup, and waiting for its ready line.
import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export const TRAFFIC = join(__dirname, 'traffic.js');

export interface Started {
  child: ChildProcess;
  pid: number;
  info: Record<string, unknown>;
}

export interface SpawnWhere {
  netns?: string;
  /** absolute cgroup v2 directory the child moves itself into before doing anything */
  cgroupDir?: string;
  env?: NodeJS.ProcessEnv;
}

/** Start the traffic program and resolve with its first JSON line (ready). */
export function startTraffic(title: string, mode: string, args: (string | number)[], where: SpawnWhere = {}): Promise<Started> {
  const argv = [process.execPath, TRAFFIC, title, mode, ...args.map(String)];
  let cmd: string[] = argv;
  if (where.netns) cmd = ['ip', 'netns', 'exec', where.netns, ...cmd];
  // Into the cgroup before `ip netns exec`, which mounts a fresh /sys without the cgroup2 mount.
  if (where.cgroupDir) cmd = ['sh', '-c', `echo $$ > '${where.cgroupDir}/cgroup.procs' && exec "$@"`, 'sh', ...cmd];
  const child = spawn(cmd[0], cmd.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: where.env ?? process.env });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    const timer = setTimeout(() => reject(new Error(`${title} ${mode} not ready after 20 s: ${stderr}`)), 20_000);
    rl.once('line', (line) => {
      clearTimeout(timer);
      try {
        const info = JSON.parse(line) as Record<string, unknown>;
        resolve({ child, pid: info.pid as number, info });
      } catch {
        reject(new Error(`${title}: bad ready line ${line}: ${stderr}`));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${title} ${mode} exited with ${code} before ready: ${stderr}`));
    });
  });
}

/** Run a traffic program to completion and return its ready (done) line. */
export async function runTraffic(title: string, mode: string, args: (string | number)[], where: SpawnWhere = {}): Promise<Started> {
  const s = await startTraffic(title, mode, args, where);
  await new Promise<void>((resolve) => (s.child.exitCode !== null ? resolve() : s.child.once('exit', () => resolve())));
  return s;
}

export function stopChild(s: Started | undefined): Promise<void> {
  if (!s || s.child.exitCode !== null || s.child.signalCode) return Promise.resolve();
  return new Promise((resolve) => {
    s.child.once('exit', () => resolve());
    s.child.kill('SIGTERM');
  });
}
