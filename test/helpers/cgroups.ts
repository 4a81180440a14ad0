// Cgroups shaped like a Docker container's scope and a Nomad task's (cgroup v2, systemd driver),
// made by an e2e test under a directory of its own and removed once its processes have exited.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { cgroup2Root } from '../../src/kernel/mounts';

export interface ContainerCgroups {
  /** Where cgroup v2 is mounted: cgroup paths the agent reports are relative to it. */
  readonly root: string;
  readonly base: string;
  /** `<base>/docker-<id>.scope`, as Docker's systemd driver names a container. */
  readonly dockerId: string;
  readonly dockerDir: string;
  /** `<base>/nomad.slice/share.slice/<alloc>.<task>.scope`, as Nomad names a task on cgroup v2. */
  readonly allocId: string;
  readonly task: string;
  readonly nomadDir: string;
  /** A directory of its own below base, by name (one of `extra`). */
  dir(name: string): string;
  /** The environment Nomad gives the task: this allocation and task, and the given job, group and namespace. */
  nomadEnv(job: { job: string; group: string; namespace: string }): NodeJS.ProcessEnv;
  make(): void;
  /** Deepest first; what is already gone, or still holds a process, is left. */
  remove(): void;
}

export function containerCgroups(tag: string, task = 'web', extra: readonly string[] = []): ContainerCgroups {
  const root = cgroup2Root();
  const base = join(root, `netwatch-e2e-${tag}-${process.pid}`);
  const dockerId = randomBytes(32).toString('hex');
  const allocId = randomUUID();
  const dockerDir = join(base, `docker-${dockerId}.scope`);
  const nomadDir = join(base, 'nomad.slice', 'share.slice', `${allocId}.${task}.scope`);
  const dirs = [base, ...extra.map((e) => join(base, e)), dockerDir, join(base, 'nomad.slice'), join(base, 'nomad.slice', 'share.slice'), nomadDir];
  return {
    root,
    base,
    dockerId,
    dockerDir,
    allocId,
    task,
    nomadDir,
    dir: (name) => join(base, name),
    nomadEnv: ({ job, group, namespace }) => ({
      ...process.env,
      NOMAD_ALLOC_ID: allocId,
      NOMAD_TASK_NAME: task,
      NOMAD_JOB_NAME: job,
      NOMAD_GROUP_NAME: group,
      NOMAD_NAMESPACE: namespace,
    }),
    make: () => {
      for (const d of dirs) mkdirSync(d, { recursive: true });
    },
    remove: () => {
      for (const d of [...dirs].reverse()) {
        try {
          rmdirSync(d);
        } catch {
          /* already gone */
        }
      }
    },
  };
}
