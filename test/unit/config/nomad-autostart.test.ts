// processors.nomad_autostart: the rules as the issue writes them, NOMAD_* defaults, and secrets kept out of summaries.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfigFile, parseConfig, summarizeConfig } from '../../../src/config';
import type { NomadAutostartProcessorConfig } from '../../../src/config/types';
import { ConfigError } from '../../../src/errors';
import { autostartYaml } from '../../helpers/autostart';
import { repoPath } from '../../helpers/paths';

const ISSUE_EXAMPLE = `
    address: \${env:NOMAD_ADDR}
    token: \${env:NOMAD_TOKEN}
    rules:
      - name: web
        match: { sni: ["app.example.com", "*.app.example.com"], ports: [443] }
        job: web
        group: web
        namespace: default
        count: 1
        wait_for: running
        idle_after: 15m
      - name: db
        match: { syn_to_port: 5432 }
        job: postgres
        group: db
`;

function load(body: string, env: Record<string, string> = {}): NomadAutostartProcessorConfig {
  return parseConfig(autostartYaml(body), 'test.yaml', env).processors.nomad_autostart as NomadAutostartProcessorConfig;
}

function problems(body: string, env: Record<string, string> = {}): readonly string[] {
  try {
    load(body, env);
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    return e.problems;
  }
  assert.fail('loaded');
}

test("the issue's example loads, with every default spelled out", () => {
  const p = load(ISSUE_EXAMPLE, { NOMAD_ADDR: 'http://10.0.0.1:4646', NOMAD_TOKEN: 'secret-token' });
  assert.deepEqual(
    [p.address, p.token, p.namespace, p.dry_run, p.timeout_ms, p.server_version, p.retry],
    ['http://10.0.0.1:4646', 'secret-token', 'default', false, 10_000, '', { initial_ms: 250, max_ms: 30_000, give_up_after_ms: 300_000 }],
  );
  assert.deepEqual(p.rules[0], {
    name: 'web',
    match: {
      sni: ['app.example.com', '*.app.example.com'],
      ports: [443],
      syn_to_port: [],
      connect_to: [],
      interface: [],
      cidrs: [],
      process: [],
      container_id: [],
      container_runtime: [],
      nomad_job: [],
      nomad_namespace: [],
    },
    job: 'web',
    group: 'web',
    namespace: 'default',
    count: 1,
    wait_for: 'running',
    wait_timeout_ms: 300_000,
    idle_after_ms: 900_000,
    idle_scale_down: 'woken',
    start_stopped: false,
    hold_syn: false,
    cooldown_ms: 10_000,
  });
  assert.deepEqual([p.rules[1].match.syn_to_port, p.rules[1].idle_after_ms, p.rules[1].wait_for], [[5432], 0, 'running']);
});

test('hold_syn holds the syn_to_port ports: a rule without any is told to add them', () => {
  const rule = (match: string) => `
    rules:
      - name: web
        match: ${match}
        job: web
        group: web
        hold_syn: true
`;
  assert.equal(load(rule('{ syn_to_port: [8080, 8443] }')).rules[0].hold_syn, true);
  assert.deepEqual(problems(rule('{ sni: [app.example.com], ports: [443] }')), [
    'processors.nomad_autostart.rules[0].hold_syn: holds SYNs to the syn_to_port ports, and this rule has none: add match.syn_to_port (the ports to hold) or remove hold_syn',
  ]);
});

test('every NOMAD_* client variable is a default, and agent.yaml wins over it', () => {
  const env = {
    NOMAD_ADDR: 'https://nomad.example.com:4646',
    NOMAD_TOKEN: 't0k3n',
    NOMAD_NAMESPACE: 'apps',
    NOMAD_REGION: 'eu',
    NOMAD_HTTP_AUTH: 'user:pw',
    NOMAD_CACERT: '/ca.pem',
    NOMAD_CAPATH: '/cas',
    NOMAD_CLIENT_CERT: '/c.pem',
    NOMAD_CLIENT_KEY: '/k.pem',
    NOMAD_TLS_SERVER_NAME: 'server.eu.nomad',
    NOMAD_SKIP_VERIFY: 'true',
  };
  const rules = '    rules: [{ name: a, match: { sni: [a.example.com] }, job: a, group: a }]\n';
  const p = load(rules, env);
  assert.deepEqual(
    [p.address, p.token, p.namespace, p.region, p.http_auth, p.rules[0].namespace],
    ['https://nomad.example.com:4646', 't0k3n', 'apps', 'eu', 'user:pw', 'apps'],
  );
  assert.deepEqual(p.tls, {
    ca_cert: '/ca.pem',
    ca_path: '/cas',
    client_cert: '/c.pem',
    client_key: '/k.pem',
    server_name: 'server.eu.nomad',
    skip_verify: true,
  });
  const q = load(`    address: http://127.0.0.1:4646\n    token: mine\n    namespace: ops\n    tls: { skip_verify: false }\n${rules}`, env);
  assert.deepEqual([q.address, q.token, q.namespace, q.rules[0].namespace, q.tls.skip_verify], ['http://127.0.0.1:4646', 'mine', 'ops', 'ops', false]);
  assert.equal(load(rules, { NOMAD_SKIP_VERIFY: 'yes' }).tls.skip_verify, false, 'strconv.ParseBool does not take "yes": ignored, as Nomad does');
});

test('server_version takes a version as nomad version prints it, or nothing', () => {
  const env = { NOMAD_ADDR: 'http://10.0.0.1:4646' };
  for (const v of ['2.0.5', 'v1.9.3', '1.10.3-beta.1', '1.8.2+ent', '2.0.6-dev+fips1403'])
    assert.equal(load(`    server_version: ${v}\n${ISSUE_EXAMPLE}`, env).server_version, v);
  assert.deepEqual(problems(`    server_version: 2.0\n${ISSUE_EXAMPLE}`, env), [
    'processors.nomad_autostart.server_version: must be a Nomad version such as 2.0.5 or 1.9.3+ent (as nomad version prints it), or empty; got "2.0"',
  ]);
});

test('a bad NOMAD_ADDR is reported against address, naming the variable', () => {
  assert.deepEqual(problems('    rules: [{ name: a, match: { sni: [a.example.com] }, job: a, group: a }]\n', { NOMAD_ADDR: 'nomad:4646' }), [
    'processors.nomad_autostart.address: must be an http:// or https:// URL such as http://127.0.0.1:4646, got "nomad:4646" (this default comes from NOMAD_ADDR)',
  ]);
});

test('server names are lower-cased; destinations take addresses, CIDRs, IPv6 in brackets and *', () => {
  const p = load(
    '    rules: [{ name: a, match: { sni: [App.Example.COM], connect_to: ["10.1.0.5:5432", "10.2.0.0/16:80", "[fd00::1]:53", "[fd00::/8]:53", "*:6379"] }, job: a, group: a }]\n',
  );
  assert.deepEqual(p.rules[0].match.sni, ['app.example.com']);
  assert.deepEqual(p.rules[0].match.connect_to, [
    { cidr: '10.1.0.5/32', port: 5432 },
    { cidr: '10.2.0.0/16', port: 80 },
    { cidr: 'fd00::1/128', port: 53 },
    { cidr: 'fd00::/8', port: 53 },
    { cidr: '', port: 6379 },
  ]);
});

test('bad destinations say what to write instead', () => {
  const body = '    rules: [{ name: a, match: { connect_to: ["fd00::1:53", "db.internal:5432", "10.0.0.1:0", "5432"] }, job: a, group: a }]\n';
  assert.deepEqual(problems(body), [
    'processors.nomad_autostart.rules[0].match.connect_to[0]: "fd00::1:53": write IPv6 addresses in brackets, e.g. "[fd00::1]:53"',
    'processors.nomad_autostart.rules[0].match.connect_to[1]: "db.internal:5432": "db.internal" is not an IP address, a CIDR or *; host names are not resolved',
    'processors.nomad_autostart.rules[0].match.connect_to[2]: "10.0.0.1:0": the port must be a number from 1 to 65535',
    'processors.nomad_autostart.rules[0].match.connect_to[3]: "5432": has no address; write "*:5432" for any address',
  ]);
});

test('every problem of every rule is reported together, in file order', () => {
  const body = `    rules:
      - { name: a, match: { sni: [bad_name.example.com] }, job: a }
      - { match: { syn_to_port: 70000 }, job: b, group: b, cooldown: soon }
`;
  assert.deepEqual(problems(body), [
    'processors.nomad_autostart.rules[0].match.sni[0]: "bad_name.example.com": labels are letters, digits and hyphens, not starting or ending with a hyphen (IDNs as xn-- A-labels)',
    'processors.nomad_autostart.rules[0].group: is required: the task group of the job to scale',
    'processors.nomad_autostart.rules[1].match.syn_to_port: must be a port number from 1 to 65535, got 70000',
    'processors.nomad_autostart.rules[1].cooldown: must be a duration with a unit, such as 10s, 1m30s or 500ms; got "soon"',
    "processors.nomad_autostart.rules[1].name: is required: a name for this rule (it is written in logs, metrics and Nomad's scaling history)",
  ]);
});

test('the summary netwatch validate prints never shows the token or the basic-auth pair', () => {
  const cfg = loadConfigFile(repoPath('test/fixtures/config/good/every-component.yaml'), {});
  const p = cfg.processors['nomad_autostart/edge'] as NomadAutostartProcessorConfig;
  assert.deepEqual(
    [p.token, p.http_auth, p.rules.length, p.rules[0].match.sni],
    ['00000000-fixture-token', 'proxy:pa55', 2, ['app.example.com', '*.app.example.com']],
  );
  const text = summarizeConfig(cfg);
  assert.ok(text.includes('nomad_autostart/edge'));
  assert.ok(!text.includes('fixture-token') && !text.includes('pa55'), text);
  assert.match(text, /token=<redacted>/);
  assert.match(text, /http_auth=<redacted>/);
});

test('the cluster section defaults to deciding sleep for the cluster, under nomad/jobs/netwatch, as NOMAD_NODE_ID', () => {
  const rules = ISSUE_EXAMPLE.replace(/^ {4}(address|token):.*\n/gm, '');
  assert.deepEqual(load(rules).cluster, {
    enabled: true,
    node: '',
    variables_prefix: 'nomad/jobs/netwatch/activity',
    lock_path: 'nomad/jobs/netwatch/sleep',
    lock_ttl_ms: 15_000,
    grace_ms: 5_000,
  });
  assert.equal(load(rules, { NOMAD_NODE_ID: '9e1c57a4-0b6f-4c1e-8a7e-2f3f0f1c0d11' }).cluster.node, '9e1c57a4-0b6f-4c1e-8a7e-2f3f0f1c0d11');
  const given = load(
    `${rules}    cluster: { enabled: false, node: edge-1, variables_prefix: apps/netwatch/activity, lock_path: apps/netwatch/locks, lock_ttl: 1m, grace: 0s }\n`,
    { NOMAD_NODE_ID: 'ignored' },
  ).cluster;
  assert.deepEqual(given, {
    enabled: false,
    node: 'edge-1',
    variables_prefix: 'apps/netwatch/activity',
    lock_path: 'apps/netwatch/locks',
    lock_ttl_ms: 60_000,
    grace_ms: 0,
  });
});

test('cluster paths must be ones Nomad takes and apart from each other; the lock TTL within what Nomad accepts', () => {
  const rules = ISSUE_EXAMPLE.replace(/^ {4}(address|token):.*\n/gm, '');
  assert.deepEqual(problems(`${rules}    cluster: { variables_prefix: /nomad/jobs/x, lock_path: nomad/variables/locks, lock_ttl: 5s }\n`), [
    'processors.nomad_autostart.cluster.variables_prefix: must be segments of letters, digits, "-", "_" and "~" joined by "/" (Nomad\'s rule for variable paths), without a leading or trailing "/"; got "/nomad/jobs/x"',
    'processors.nomad_autostart.cluster.lock_path: below the reserved "nomad" Nomad takes only nomad/jobs/…, e.g. nomad/jobs/netwatch/activity; got "nomad/variables/locks"',
    'processors.nomad_autostart.cluster.lock_ttl: must be from 10s to 24h (what Nomad accepts for a lock\'s TTL), got "5s"',
  ]);
  assert.deepEqual(problems(`${rules}    cluster: { variables_prefix: nomad/jobs/netwatch, lock_path: nomad/jobs/netwatch/sleep }\n`), [
    "processors.nomad_autostart.cluster.lock_path: must not be cluster.variables_prefix (nomad/jobs/netwatch), nor lie below or above it: every variable under the prefix is read as a node's activity",
  ]);
  assert.deepEqual(problems(`${rules}    cluster: { variables_prefix: nomad/jobs/${'x'.repeat(80)} }\n`), [
    'processors.nomad_autostart.cluster.variables_prefix: must be at most 80 characters (Nomad takes 128, and netwatch adds below it), got 91',
  ]);
});
