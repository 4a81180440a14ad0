// The shipped Nomad job (otel/nomad/netwatch.nomad.hcl) and the ACL policy of its agent task, parsed
// with HashiCorp's HCL parser (Go, as wasm), and what Nomad gives that task at run time: its
// environment, the Task API socket and the workload identity's token file. From hashicorp/nomad:
// client/taskenv/env.go (the variables; NOMAD_TOKEN and NOMAD_UNIX_ADDR only with identity env = true),
// client/allocrunner/taskrunner/api_hook.go (the Task API socket, secrets/api.sock, for every task),
// client/allocrunner/taskrunner/identity_hook.go (secrets/nomad_token, written with identity file = true).
import { readFileSync } from 'node:fs';
import { parse as parseHcl } from '@cdktf/hcl2json';
import { repoPath } from './paths';

export const JOB_PATH = 'otel/nomad/netwatch.nomad.hcl';
export const POLICY_PATH = 'otel/nomad/netwatch-autostart.policy.hcl';

/** Where the docker driver mounts a task's directories inside its container. */
export const DOCKER_TASK_DIRS = { alloc: '/alloc', local: '/local', secrets: '/secrets' } as const;

export interface ShippedJob {
  /** The parsed `job "netwatch"` block. */
  job: any;
  group: any;
  tasks: Record<string, any>;
  /** The file's text, comments included. */
  text: string;
}

export async function readShippedJob(): Promise<ShippedJob> {
  const text = readFileSync(repoPath(JOB_PATH), 'utf8');
  const parsed = (await parseHcl(JOB_PATH, text)) as any;
  const job = parsed.job.netwatch[0];
  const group = job.group.netwatch[0];
  const tasks = Object.fromEntries(Object.entries(group.task).map(([name, t]) => [name, (t as any[])[0]]));
  return { job, group, tasks, text };
}

/** HCL template text → what Nomad hands the task: `$${` and `%%{` are HCL's escapes for `${` and `%{`. */
export function unescapeHcl(s: string): string {
  return s.replace(/\$\$\{/g, '${').replace(/%%\{/g, '%{');
}

export const templateOf = (task: any, destination: string): any => task.template.find((t: any) => t.destination === destination);

/** The agent task's agent.yaml as the agent reads it (its `${env:…}` still to be substituted by the agent). */
export const agentYamlOf = (s: ShippedJob): string => unescapeHcl(templateOf(s.tasks.netwatch, 'local/agent.yaml').data);

/** The task's workload identity block (the default identity), or undefined. */
export const identityOf = (task: any): { env?: boolean; file?: boolean; filepath?: string } | undefined => task.identity?.[0];

/** The Task API socket of a task whose secrets directory is `secretsDir`, as NOMAD_UNIX_ADDR spells it. */
export const taskApiAddress = (secretsDir: string): string => `unix://${secretsDir}/api.sock`;

/** Where Nomad writes the default identity's token with `identity { file = true }` (no filepath). */
export const tokenFilePath = (secretsDir: string): string => `${secretsDir}/nomad_token`;

/**
 * The NOMAD_* variables Nomad sets in task `name` of the shipped job (the values a docker task sees;
 * ids made up), the identity's only when its block asks for them.
 */
export function taskEnvironment(s: ShippedJob, name: string, secretsDir: string = DOCKER_TASK_DIRS.secrets): Record<string, string> {
  const task = s.tasks[name];
  const env: Record<string, string> = {
    NOMAD_ALLOC_DIR: DOCKER_TASK_DIRS.alloc,
    NOMAD_TASK_DIR: DOCKER_TASK_DIRS.local,
    NOMAD_SECRETS_DIR: secretsDir,
    NOMAD_ALLOC_ID: '5b1c6f1e-7a0e-4bcd-9f11-2f0b1d6e9a01',
    NOMAD_SHORT_ALLOC_ID: '5b1c6f1e',
    NOMAD_ALLOC_NAME: `netwatch.netwatch[0]`,
    NOMAD_ALLOC_INDEX: '0',
    NOMAD_TASK_NAME: name,
    NOMAD_GROUP_NAME: 'netwatch',
    NOMAD_JOB_ID: 'netwatch',
    NOMAD_JOB_NAME: 'netwatch',
    NOMAD_DC: 'dc1',
    NOMAD_NAMESPACE: s.job.namespace ?? 'default',
    NOMAD_REGION: 'global',
    NOMAD_CPU_LIMIT: String(task.resources?.[0]?.cpu ?? 100),
    NOMAD_MEMORY_LIMIT: String(task.resources?.[0]?.memory ?? 300),
  };
  if (identityOf(task)?.env) {
    env.NOMAD_TOKEN = 'eyJhbGciOiJSUzI1NiJ9.workload-identity.jwt';
    env.NOMAD_UNIX_ADDR = taskApiAddress(secretsDir);
  }
  // The task's own env block, with the node's attributes interpolated (client/taskenv/env.go ReplaceEnv).
  for (const block of task.env ?? []) {
    for (const [k, v] of Object.entries<string>(block))
      env[k] = v.replace(/\$\{([^}]+)\}/g, (m: string, name: string) => NODE_ATTRIBUTES[name] ?? env[name] ?? m);
  }
  return env;
}

/** The node attributes a task's env block may name (client/taskenv/env.go: node.unique.id and friends); made up. */
export const NODE_ATTRIBUTES: Readonly<Record<string, string>> = {
  'node.unique.id': '6c2f4c8e-1f0a-4b7e-9a55-3d2e1c0b9f10',
  'node.unique.name': 'client-1',
  'node.datacenter': 'dc1',
  'node.region': 'global',
};

/** One `path "<glob>" { capabilities = [...] }` of a namespace's `variables` block. */
export interface PolicyVariablesPath {
  path: string;
  capabilities: string[];
}

/**
 * The shipped ACL policy: capabilities by namespace (each `namespace` block's `capabilities`), the
 * paths of each namespace's `variables` block, and the `agent` block's policy (undefined without
 * one). `raw` is all of it, for what these omit.
 */
export async function readPolicy(): Promise<{
  namespaces: Map<string, string[]>;
  variables: Map<string, PolicyVariablesPath[]>;
  agent: string | undefined;
  raw: any;
  text: string;
}> {
  const text = readFileSync(repoPath(POLICY_PATH), 'utf8');
  const raw = (await parseHcl(POLICY_PATH, text)) as any;
  const namespaces = new Map<string, string[]>();
  const variables = new Map<string, PolicyVariablesPath[]>();
  for (const [ns, blocks] of Object.entries<any[]>(raw.namespace ?? {})) {
    namespaces.set(
      ns,
      blocks.flatMap((b) => b.capabilities ?? []),
    );
    const paths = blocks.flatMap((b) =>
      (b.variables ?? []).flatMap((v: any) =>
        Object.entries<any[]>(v.path ?? {}).flatMap(([path, rules]) => rules.map((r) => ({ path, capabilities: r.capabilities ?? [] }))),
      ),
    );
    if (paths.length) variables.set(ns, paths);
  }
  const agent = (raw.agent as { policy?: string }[] | undefined)?.map((b) => b.policy).at(-1);
  return { namespaces, variables, agent, raw, text };
}
