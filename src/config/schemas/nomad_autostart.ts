// processors.nomad_autostart: wakes Nomad task groups from zero on traffic seen in the kernel
// (sni and connections receivers) and puts them back to sleep when idle. Connection settings
// default to the NOMAD_* variables, as Nomad's own CLI reads them.
import { defineComponent, type BuildContext } from '../component';
import { parseDuration } from '../duration';
import { NOMAD_ENV_VARIABLES } from '../nomad-env';
import { isMapping, joinPath } from '../problems';
import type { AutostartRule, NomadAutostartProcessorConfig } from '../types';
import { autostartRuleSchema, checkAutostartRule, checkRuleNames } from './autostart-rule';

interface Settings {
  address: string;
  token: string;
  token_file: string;
  namespace: string;
  region: string;
  http_auth: string;
  tls: { ca_cert: string; ca_path: string; client_cert: string; client_key: string; server_name: string; skip_verify: boolean };
  timeout: string;
  dry_run: boolean;
  agent_host: string;
  server_version: string;
  retry: { initial: string; max: string; give_up_after: string };
  cluster: { enabled: boolean; node: string; variables_prefix: string; lock_path: string; lock_ttl: string; grace: string };
  rules: unknown[];
}

export const DEFAULT_NOMAD_ADDRESS = 'http://127.0.0.1:4646';

/** Why `address` cannot be Nomad's HTTP API address (credentials in it are never echoed). */
function addressProblem(address: string): string | undefined {
  const shown = JSON.stringify(address.replace(/\/\/[^@/]*@/, '//<redacted>@'));
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    return `must be an http:// or https:// URL such as http://127.0.0.1:4646, got ${shown}`;
  }
  // unix:///path: a Unix socket, e.g. the Task API's (NOMAD_UNIX_ADDR, nomad client/taskenv/env.go).
  if (url.protocol === 'unix:')
    return url.pathname === '' || url.pathname === '/'
      ? `a unix:// address needs the socket's path, such as unix:///secrets/api.sock, got ${shown}`
      : undefined;
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `must be an http:// or https:// URL such as http://127.0.0.1:4646, got ${shown}`;
  return undefined;
}

function checkConnection(s: Settings, ctx: BuildContext): void {
  const fromEnv = (key: string): string => (!ctx.provided.has(key) && NOMAD_ENV_VARIABLES[key] ? ` (this default comes from ${NOMAD_ENV_VARIABLES[key]})` : '');
  if (!ctx.invalid.has('address')) {
    const why = addressProblem(s.address);
    if (why) ctx.problems.push({ path: joinPath(ctx.path, 'address'), message: why + fromEnv('address') });
  }
  const { client_cert: cert, client_key: key } = s.tls;
  if ((cert === '') !== (key === '')) {
    const missing = cert === '' ? 'client_cert' : 'client_key';
    const given = missing === 'client_cert' ? 'client_key' : 'client_cert';
    ctx.problems.push({
      path: joinPath(ctx.path, `tls.${missing}`),
      message: `is required when tls.${given} is set (a client certificate needs its key)${fromEnv(`tls.${given}`)}`,
    });
  }
  const initial = parseDuration(s.retry.initial);
  const max = parseDuration(s.retry.max);
  if (initial !== undefined && max !== undefined && !ctx.invalid.has('retry.initial') && !ctx.invalid.has('retry.max') && initial > max) {
    ctx.problems.push({ path: joinPath(ctx.path, 'retry.max'), message: `must not be shorter than retry.initial (${s.retry.initial})` });
  }
}

/** One variable path must not lie below the other: the activity listing would take locks for nodes, or the reverse. */
function checkCluster(s: Settings, ctx: BuildContext): void {
  const { variables_prefix: prefix, lock_path: lock } = s.cluster;
  if (ctx.invalid.has('cluster.variables_prefix') || ctx.invalid.has('cluster.lock_path')) return;
  const below = (a: string, b: string): boolean => a === b || a.startsWith(`${b}/`);
  if (below(lock, prefix) || below(prefix, lock)) {
    ctx.problems.push({
      path: joinPath(ctx.path, 'cluster.lock_path'),
      message: `must not be cluster.variables_prefix (${prefix}), nor lie below or above it: every variable under the prefix is read as a node's activity`,
    });
  }
}

function checkRules(raw: readonly unknown[], namespace: string, ctx: BuildContext): AutostartRule[] {
  const path = joinPath(ctx.path, 'rules');
  if (raw.length === 0 && !ctx.invalid.has('rules')) {
    ctx.problems.push({ path, message: 'has no rules; add at least one, e.g. {name: web, match: {sni: [app.example.com]}, job: web, group: web}' });
    return [];
  }
  const rules: AutostartRule[] = [];
  const names: { index: number; name: string }[] = [];
  raw.forEach((item, i) => {
    if (isMapping(item) && typeof item.name === 'string' && item.name.trim() !== '') names.push({ index: i, name: item.name.trim() });
    const rule = checkAutostartRule(item, joinPath(path, i), namespace, ctx.problems);
    if (rule) rules.push(rule);
  });
  checkRuleNames(names, path, ctx.problems);
  return rules;
}

export const nomadAutostart = defineComponent<NomadAutostartProcessorConfig, Settings>({
  type: 'nomad_autostart',
  summary: 'scales Nomad task groups up from zero when matching traffic is seen (TLS SNI, SYNs, outbound connects), and back down when idle',
  lists: { rules: autostartRuleSchema },
  schema: (env) => {
    const n = env.nomad;
    const origins: Record<string, string> = {};
    const present: Record<string, unknown> = {
      address: n.address,
      token: n.token,
      namespace: n.namespace,
      region: n.region,
      http_auth: n.httpAuth,
      'tls.ca_cert': n.caCert,
      'tls.ca_path': n.caPath,
      'tls.client_cert': n.clientCert,
      'tls.client_key': n.clientKey,
      'tls.server_name': n.tlsServerName,
      'tls.skip_verify': n.skipVerify,
      'cluster.node': n.nodeId,
    };
    // present's keys are NOMAD_ENV_VARIABLES's keys.
    for (const [key, v] of Object.entries(present)) if (v !== undefined) origins[key] = NOMAD_ENV_VARIABLES[key]!;
    return {
      origins,
      schema: {
        address: {
          doc: `Nomad HTTP API address, http://, https://, or unix:///path for a Unix socket (the Task API). Default: NOMAD_ADDR, else NOMAD_UNIX_ADDR, else ${DEFAULT_NOMAD_ADDRESS}.`,
          format: 'nw.text',
          default: n.address ?? DEFAULT_NOMAD_ADDRESS,
        },
        token: { doc: 'ACL token, sent as X-Nomad-Token; never logged. Default: NOMAD_TOKEN.', format: 'nw.text', default: n.token ?? '' },
        token_file: {
          doc: "File holding the ACL token, e.g. a workload identity's (secrets/nomad_token); read at start and again whenever Nomad answers 403, so a rotated token is picked up. Beats token when set.",
          format: 'nw.text',
          default: '',
        },
        namespace: { doc: 'Namespace of rules that name none. Default: NOMAD_NAMESPACE, else default.', format: 'nw.text', default: n.namespace ?? '' },
        region: {
          doc: "Region to send requests to (Nomad forwards them). Default: NOMAD_REGION, else the agent's own.",
          format: 'nw.text',
          default: n.region ?? '',
        },
        http_auth: {
          doc: 'user:password for HTTP basic auth (a proxy in front of Nomad); never logged. Default: NOMAD_HTTP_AUTH.',
          format: 'nw.text',
          default: n.httpAuth ?? '',
        },
        tls: {
          ca_cert: { doc: 'PEM file of CA certificates to verify Nomad with. Default: NOMAD_CACERT.', format: 'nw.text', default: n.caCert ?? '' },
          ca_path: { doc: 'Directory of PEM CA certificates (used when ca_cert is empty). Default: NOMAD_CAPATH.', format: 'nw.text', default: n.caPath ?? '' },
          client_cert: { doc: 'PEM client certificate for mutual TLS. Default: NOMAD_CLIENT_CERT.', format: 'nw.text', default: n.clientCert ?? '' },
          client_key: { doc: 'PEM private key of client_cert. Default: NOMAD_CLIENT_KEY.', format: 'nw.text', default: n.clientKey ?? '' },
          server_name: {
            doc: 'Server name to verify (and send as SNI) instead of the address host. Default: NOMAD_TLS_SERVER_NAME.',
            format: 'nw.text',
            default: n.tlsServerName ?? '',
          },
          skip_verify: {
            doc: "Do not verify Nomad's certificate (testing only). Default: NOMAD_SKIP_VERIFY, else false.",
            format: 'nw.bool',
            default: n.skipVerify ?? false,
          },
        },
        timeout: { doc: 'Time limit of one Nomad API request (a blocking query gets its wait on top).', format: 'nw.duration', default: '10s' },
        dry_run: { doc: 'Log what would be done and call nothing in Nomad that writes (reads still happen).', format: 'nw.bool', default: false },
        agent_host: {
          doc: "Host name written into scaling events' Meta (netwatch.agent.host); empty: this machine's host name.",
          format: 'nw.text',
          default: '',
        },
        server_version: {
          doc:
            "The Nomad servers' version (as `nomad version` prints it, e.g. 2.0.5), for when the token cannot read /v1/agent/self (agent:read), " +
            'where the agent learns it. From 1.8.2 a wake is one scale request with a check-and-set on the job (JobModifyIndex), from state kept warm by ' +
            "Nomad's event stream; older servers, or an unknown version, get a read of the scale status before each write. Empty: unknown unless /v1/agent/self tells.",
          format: 'nw.nomad-version',
          default: '',
        },
        retry: {
          initial: {
            doc: 'First delay before retrying after a 5xx, a timeout or a connection error (doubled per attempt, with jitter).',
            format: 'nw.duration',
            default: '250ms',
          },
          max: { doc: 'Longest delay between retries.', format: 'nw.duration', default: '30s' },
          give_up_after: { doc: 'Stop retrying a wake when no matching traffic has arrived for this long.', format: 'nw.duration', default: '5m' },
        },
        cluster: {
          enabled: {
            doc:
              'Decide sleep for the cluster: each agent publishes its activity per group in Nomad Variables, and a group goes back to 0 only when ' +
              'every node is idle, scaled down by one agent (any of them, not only the one that woke it) holding a Variables lock. ' +
              'false: each agent judges only its own traffic, and only the agent that woke a group puts it back to sleep. ' +
              'Needs read and write on the Variables below (see the README); without them, or with dry_run, sleep is decided as with false.',
            format: 'nw.bool',
            default: true,
          },
          node: {
            doc: "The name this agent's activity is published under (one variable per node). Default: NOMAD_NODE_ID, else agent_host, else this machine's host name.",
            format: 'nw.text',
            default: n.nodeId ?? '',
          },
          variables_prefix: {
            doc: "Where the nodes' activity lives: the variable <variables_prefix>/<node>, one item per group (<namespace>/<job>/<group>: active or idle), in the processor's namespace.",
            format: 'nw.nomad-variable-path',
            default: 'nomad/jobs/netwatch/activity',
          },
          lock_path: {
            doc: 'The agent that checks whether a group is idle everywhere holds the Variables lock <lock_path>/<namespace>/<job>/<group> while it does.',
            format: 'nw.nomad-variable-path',
            default: 'nomad/jobs/netwatch/sleep',
          },
          lock_ttl: {
            doc:
              "The TTL of the sleeper's lock, renewed at half of it. A sleeper that dies holding it keeps the group from sleeping until Nomad frees the lock: " +
              'after twice the TTL, then a LockDelay of as long again (nomad/locks.go).',
            format: 'nw.lock-ttl',
            default: '15s',
          },
          grace: {
            doc: "Between the sleeper's two reads of every node's activity: a node that saw traffic just before the first read has this long to say so.",
            format: 'nw.duration-or-zero',
            default: '5s',
          },
        },
        rules: { doc: 'What wakes which Nomad group; see the rules[] keys below.', format: 'nw.autostart-rules', default: [] },
      },
    };
  },
  build: (s, ctx) => {
    checkConnection(s, ctx);
    checkCluster(s, ctx);
    const namespace = s.namespace !== '' ? s.namespace : 'default';
    return {
      type: 'nomad_autostart',
      id: ctx.id,
      address: s.address,
      token: s.token,
      token_file: s.token_file,
      namespace,
      region: s.region,
      http_auth: s.http_auth,
      tls: { ...s.tls },
      timeout_ms: parseDuration(s.timeout)!,
      dry_run: s.dry_run,
      agent_host: s.agent_host,
      server_version: s.server_version.trim(),
      retry: { initial_ms: parseDuration(s.retry.initial)!, max_ms: parseDuration(s.retry.max)!, give_up_after_ms: parseDuration(s.retry.give_up_after)! },
      cluster: {
        enabled: s.cluster.enabled,
        node: s.cluster.node.trim(),
        variables_prefix: s.cluster.variables_prefix,
        lock_path: s.cluster.lock_path,
        lock_ttl_ms: parseDuration(s.cluster.lock_ttl)!,
        grace_ms: parseDuration(s.cluster.grace)!,
      },
      rules: checkRules(s.rules, namespace, ctx),
    };
  },
});
