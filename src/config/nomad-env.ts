// The NOMAD_* client variables as defaults for nomad_autostart, read the way Nomad's own CLI and
// Go client read them (hashicorp/nomad api/api.go DefaultConfig): empty counts as unset;
// NOMAD_SKIP_VERIFY goes through strconv.ParseBool and is ignored when it does not parse. Also
// NOMAD_NODE_ID, the node netwatch publishes its activity as: Nomad sets no such variable in tasks
// (client/taskenv/env.go), so netwatch's job sets it from ${node.unique.id} in the task's env block.
import type { Env } from './env-substitution';

export interface NomadEnvDefaults {
  readonly address?: string;
  readonly token?: string;
  readonly namespace?: string;
  readonly region?: string;
  readonly httpAuth?: string;
  readonly caCert?: string;
  readonly caPath?: string;
  readonly clientCert?: string;
  readonly clientKey?: string;
  readonly tlsServerName?: string;
  readonly skipVerify?: boolean;
  readonly nodeId?: string;
}

/** Setting (relative dotted path) → the variable its default comes from. */
export const NOMAD_ENV_VARIABLES: Readonly<Record<string, string>> = {
  address: 'NOMAD_ADDR',
  token: 'NOMAD_TOKEN',
  namespace: 'NOMAD_NAMESPACE',
  region: 'NOMAD_REGION',
  http_auth: 'NOMAD_HTTP_AUTH',
  'tls.ca_cert': 'NOMAD_CACERT',
  'tls.ca_path': 'NOMAD_CAPATH',
  'tls.client_cert': 'NOMAD_CLIENT_CERT',
  'tls.client_key': 'NOMAD_CLIENT_KEY',
  'tls.server_name': 'NOMAD_TLS_SERVER_NAME',
  'tls.skip_verify': 'NOMAD_SKIP_VERIFY',
  'cluster.node': 'NOMAD_NODE_ID',
};

const get = (env: Env, name: string): string | undefined => (env[name] === undefined || env[name] === '' ? undefined : env[name]);

/** Go's strconv.ParseBool. */
function parseGoBool(s: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(s)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(s)) return false;
  return undefined;
}

export function readNomadEnv(env: Env): NomadEnvDefaults {
  const skip = get(env, 'NOMAD_SKIP_VERIFY');
  return {
    // Inside a task with a workload identity, Nomad sets NOMAD_UNIX_ADDR to the Task API socket
    // (client/taskenv/env.go); Nomad's own client reads only NOMAD_ADDR, so that comes first.
    address: get(env, 'NOMAD_ADDR') ?? get(env, 'NOMAD_UNIX_ADDR'),
    token: get(env, 'NOMAD_TOKEN'),
    namespace: get(env, 'NOMAD_NAMESPACE'),
    region: get(env, 'NOMAD_REGION'),
    httpAuth: get(env, 'NOMAD_HTTP_AUTH'),
    caCert: get(env, 'NOMAD_CACERT'),
    caPath: get(env, 'NOMAD_CAPATH'),
    clientCert: get(env, 'NOMAD_CLIENT_CERT'),
    clientKey: get(env, 'NOMAD_CLIENT_KEY'),
    tlsServerName: get(env, 'NOMAD_TLS_SERVER_NAME'),
    skipVerify: skip === undefined ? undefined : parseGoBool(skip),
    nodeId: get(env, 'NOMAD_NODE_ID'),
  };
}
