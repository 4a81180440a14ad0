// otel/nomad/netwatch-autostart.policy.hcl grants the shipped job's agent task exactly what its
// nomad_autostart rules make the processor call. The calls are read from the code (the NomadClient
// methods the processor invokes, and the request each sends), so a new call fails here until its
// ACL check is known; what Nomad checks for each endpoint is from hashicorp/nomad nomad/job_endpoint.go.
// Then the shipped rule wakes its group against the Nomad API double, over a Task API socket, with a
// token holding nothing but the policy.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import ts from 'typescript';
import { parseConfig } from '../../../src/config';
import type { AutostartRule, NomadAutostartProcessorConfig } from '../../../src/config/types';
import { CALL_CAPABILITIES, capabilitiesFor, type NomadCall } from '../../../src/pipeline/processors/nomad_autostart/advice';
import { buildPipelines, type PipelineRunner } from '../../../src/pipeline/runner';
import { captureLog, until, type CapturedLog } from '../../helpers/autostart';
import { NomadDouble, tokenHash } from '../../helpers/nomad';
import { agentYamlOf, JOB_PATH, readPolicy, readShippedJob, taskEnvironment, tokenFilePath } from '../../helpers/nomad-job';
import { repoPath } from '../../helpers/paths';
import { connEvent } from '../pipeline/events';

const PROCESSOR_DIR = 'src/pipeline/processors/nomad_autostart';
const CLIENT_FILE = `${PROCESSOR_DIR}/client/client.ts`;

/**
 * What Nomad checks for each endpoint: any one of these capabilities in the request's namespace
 * (hashicorp/nomad nomad/job_endpoint.go; register-job exists from Nomad 2.0).
 */
const NOMAD_CHECKS: Readonly<Record<string, readonly string[]>> = {
  'GET /v1/job/:job/scale': ['read-job', 'read-job-scaling'], // Job.ScaleStatus
  'POST /v1/job/:job/scale': ['scale-job', 'submit-job'], // Job.Scale
  'GET /v1/job/:job': ['read-job'], // Job.GetJob
  'GET /v1/job/:job/versions': ['read-job'], // Job.GetJobVersions
  'GET /v1/job/:job/allocations': ['read-job'], // Job.Allocations
  'GET /v1/job/:job/deployment': ['read-job'], // Job.LatestDeployment
  'PUT /v1/jobs': ['submit-job', 'register-job'], // Job.Register
};
/** Client methods that send nothing to Nomad. */
const LIFECYCLE = new Set(['close', 'destroy']);

const source = (path: string): ts.SourceFile => ts.createSourceFile(path, readFileSync(repoPath(path), 'utf8'), ts.ScriptTarget.ES2022, true);

function walk(node: ts.Node, fn: (n: ts.Node) => void): void {
  fn(node);
  node.forEachChild((c) => walk(c, fn));
}

/** `/v1/job/${enc(job)}/scale` → `/v1/job/:job/scale`. */
function pathOf(arg: ts.Expression): string | undefined {
  if (ts.isStringLiteralLike(arg)) return arg.text;
  if (!ts.isTemplateExpression(arg)) return undefined;
  return arg.head.text + arg.templateSpans.map((s) => `:${s.expression.getText().replace(/^enc\((\w+)\)$/, '$1')}${s.literal.text}`).join('');
}

/** NomadClient's methods → the request each sends: `this.query(path)` is a GET, `this.write(verb, path)` says its verb. */
function clientEndpoints(): Map<string, string> {
  const out = new Map<string, string>();
  walk(source(CLIENT_FILE), (n) => {
    if (!ts.isMethodDeclaration(n) || !n.body || !ts.isIdentifier(n.name)) return;
    const method = n.name.text;
    walk(n.body, (c) => {
      if (!ts.isCallExpression(c) || !ts.isPropertyAccessExpression(c.expression) || c.expression.expression.kind !== ts.SyntaxKind.ThisKeyword) return;
      const callee = c.expression.name.text;
      const [a0, a1] = c.arguments;
      if (callee === 'query' && a0 && pathOf(a0)) out.set(method, `GET ${pathOf(a0)}`);
      if (callee === 'write' && a0 && ts.isStringLiteral(a0) && a1 && pathOf(a1)) out.set(method, `${a0.text} ${pathOf(a1)}`);
    });
  });
  return out;
}

interface ClientCall {
  /** The NomadClient method. */
  method: string;
  /** The method of the processor's class it is called from. */
  from: string;
  /** `this.call('<call>', () => this.client.<method>(…))`: the NomadCall it is tagged with. */
  call?: NomadCall;
  file: string;
}

const processorFiles = (): string[] =>
  readdirSync(repoPath(PROCESSOR_DIR))
    .filter((f) => f.endsWith('.ts'))
    .map((f) => `${PROCESSOR_DIR}/${f}`);

/** Every `this.client.<method>(…)` of the processor (outside client/), with where it sits. */
function clientCalls(): ClientCall[] {
  const out: ClientCall[] = [];
  for (const file of processorFiles()) {
    walk(source(file), (n) => {
      if (!ts.isCallExpression(n) || !ts.isPropertyAccessExpression(n.expression)) return;
      const recv = n.expression.expression;
      if (!(ts.isPropertyAccessExpression(recv) && recv.name.text === 'client' && recv.expression.kind === ts.SyntaxKind.ThisKeyword)) return;
      let from = '';
      let call: NomadCall | undefined;
      for (let p: ts.Node | undefined = n.parent; p; p = p.parent) {
        if (
          call === undefined &&
          ts.isCallExpression(p) &&
          ts.isPropertyAccessExpression(p.expression) &&
          p.expression.name.text === 'call' &&
          p.arguments[0] &&
          ts.isStringLiteral(p.arguments[0])
        )
          call = p.arguments[0].text as NomadCall;
        if (ts.isMethodDeclaration(p) && ts.isIdentifier(p.name)) {
          from = p.name.text;
          break;
        }
      }
      out.push({ method: n.expression.name.text, from, call, file });
    });
  }
  return out;
}

/**
 * The processor's methods that run only for rules with start_stopped: startStopped, which returns
 * first thing when the rule's start_stopped is false, and every method only it calls.
 */
function startStoppedOnly(): Set<string> {
  const callers = new Map<string, Set<string>>();
  let guarded = false;
  for (const file of processorFiles()) {
    walk(source(file), (n) => {
      if (!ts.isMethodDeclaration(n) || !n.body || !ts.isIdentifier(n.name)) return;
      const caller = n.name.text;
      if (caller === 'startStopped') {
        // `if (!rule.cfg.start_stopped) { …; return … }` comes before any statement that calls Nomad.
        const statements = n.body.statements;
        const guard = statements.findIndex(
          (st) =>
            ts.isIfStatement(st) &&
            st.expression.getText() === '!rule.cfg.start_stopped' &&
            ts.isBlock(st.thenStatement) &&
            ts.isReturnStatement(st.thenStatement.statements.at(-1)!),
        );
        const firstCall = statements.findIndex((st) => st.getText().includes('this.client.'));
        guarded = guard >= 0 && guard < firstCall;
      }
      walk(n.body, (c) => {
        if (ts.isCallExpression(c) && ts.isPropertyAccessExpression(c.expression) && c.expression.expression.kind === ts.SyntaxKind.ThisKeyword) {
          const callee = c.expression.name.text;
          callers.set(callee, (callers.get(callee) ?? new Set()).add(caller));
        }
      });
    });
  }
  assert.ok(guarded, 'startStopped returns before calling Nomad unless the rule has start_stopped');
  const only = new Set(['startStopped']);
  for (let grew = true; grew;) {
    grew = false;
    for (const [m, from] of callers) {
      if (!only.has(m) && [...from].every((c) => only.has(c))) {
        only.add(m);
        grew = true;
      }
    }
  }
  return only;
}

interface Reach {
  endpoint: string;
  onlyStartStopped: boolean;
}
let reach: Reach[];
let calls: ClientCall[];
let endpoints: Map<string, string>;

before(() => {
  endpoints = clientEndpoints();
  calls = clientCalls();
  const only = startStoppedOnly();
  const byEndpoint = new Map<string, boolean>();
  for (const c of calls) {
    const e = endpoints.get(c.method);
    if (!e) continue;
    byEndpoint.set(e, (byEndpoint.get(e) ?? true) && only.has(c.from));
  }
  reach = [...byEndpoint].map(([endpoint, onlyStartStopped]) => ({ endpoint, onlyStartStopped }));
});

const needed = (rules: readonly Pick<AutostartRule, 'start_stopped'>[]): Reach[] =>
  reach.filter((r) => !r.onlyStartStopped || rules.some((x) => x.start_stopped));
const grants = (caps: readonly string[], endpoint: string): boolean => NOMAD_CHECKS[endpoint]!.some((c) => caps.includes(c));

test('the code is read as expected: the client methods send the requests Nomad documents, and the processor calls them', () => {
  assert.equal(endpoints.get('jobScaleStatus'), 'GET /v1/job/:job/scale');
  assert.equal(endpoints.get('scale'), 'POST /v1/job/:job/scale');
  assert.equal(endpoints.get('registerJob'), 'PUT /v1/jobs');
  assert.ok(calls.some((c) => c.method === 'scale' && c.call === 'scale'));
  assert.deepEqual(
    reach.filter((r) => r.onlyStartStopped).map((r) => r.endpoint),
    ['GET /v1/job/:job', 'PUT /v1/jobs', 'GET /v1/job/:job/versions'],
    'reading the job and its versions and registering it happen only to start a stopped job',
  );
});

test('every Nomad endpoint the processor calls is one whose ACL check is known here', () => {
  for (const c of calls) {
    const e = endpoints.get(c.method);
    if (e === undefined) assert.ok(LIFECYCLE.has(c.method), `${c.file}: NomadClient.${c.method} sends no request this test can read`);
    else assert.ok(e in NOMAD_CHECKS, `${c.file} (${c.from}) calls ${e}: add what Nomad checks for it to NOMAD_CHECKS`);
  }
});

test('the capability a 403 message asks for is one Nomad accepts for every endpoint of that call', () => {
  const tagged = calls.filter((c) => c.call !== undefined);
  assert.ok(tagged.length >= 5);
  for (const c of tagged) {
    const e = endpoints.get(c.method)!;
    for (const cap of CALL_CAPABILITIES[c.call!]) assert.ok(NOMAD_CHECKS[e]!.includes(cap), `"${c.call}" asks for ${cap}, which ${e} does not accept`);
  }
});

test('capabilitiesFor (the policy the processor advises) covers every endpoint a rule can reach, and nothing more', () => {
  for (const start_stopped of [false, true]) {
    const caps = capabilitiesFor({ start_stopped });
    const reached = needed([{ start_stopped }]);
    for (const r of reached) assert.ok(grants(caps, r.endpoint), `start_stopped ${start_stopped}: ${caps.join(', ')} does not cover ${r.endpoint}`);
    for (const cap of caps)
      assert.ok(
        reached.some((r) => NOMAD_CHECKS[r.endpoint]!.includes(cap)),
        `start_stopped ${start_stopped}: ${cap} is granted but no endpoint reached needs it`,
      );
  }
});

test('the shipped policy grants, in each namespace of the shipped rules, exactly what those rules need', async () => {
  const shipped = await readShippedJob();
  const cfg = parseConfig(agentYamlOf(shipped), JOB_PATH, taskEnvironment(shipped, 'netwatch'));
  const rules = (cfg.processors.nomad_autostart as NomadAutostartProcessorConfig).rules;
  const policy = await readPolicy();
  assert.deepEqual(Object.keys(policy.raw).sort(), ['namespace'], 'namespace blocks only: no node, agent, operator or Variables rules');
  const namespaces = new Set(rules.map((r) => r.namespace));
  assert.deepEqual([...policy.namespaces.keys()].sort(), [...namespaces].sort(), 'one block per namespace the rules name');
  for (const ns of namespaces) {
    const inNs = rules.filter((r) => r.namespace === ns);
    const caps = policy.namespaces.get(ns)!;
    assert.deepEqual([...caps].sort(), [...new Set(inNs.flatMap((r) => capabilitiesFor(r)))].sort(), `namespace "${ns}"`);
    for (const r of needed(inNs)) assert.ok(grants(caps, r.endpoint), `namespace "${ns}": nothing grants ${r.endpoint}`);
  }
});

describe('the shipped rule against the Nomad API double, through a Task API socket, with the policy as its token', () => {
  const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.netwatch-agent-workload-identity';
  let dir: string;
  let d: NomadDouble;
  let runner: PipelineRunner;
  let log: CapturedLog;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'nw-taskapi-'));
    const secrets = join(dir, 'secrets');
    mkdirSync(secrets);
    writeFileSync(tokenFilePath(secrets), TOKEN, { mode: 0o600 });
    const policy = await readPolicy();
    d = await NomadDouble.start({
      unixSocket: join(secrets, 'api.sock'),
      acl: true,
      tokens: [{ secretId: TOKEN, rules: [...policy.namespaces].map(([namespace, capabilities]) => ({ namespace, capabilities })) }],
    });
    // The example's job: a group at 0 whose scaling policy allows 0, with Nomad's default deployments.
    d.addJob({ ID: 'postgres', TaskGroups: [{ Name: 'db', Count: 0, Scaling: { Min: 0, Max: 1 } }] });
    const shipped = await readShippedJob();
    log = captureLog();
    const cfg = parseConfig(agentYamlOf(shipped), JOB_PATH, taskEnvironment(shipped, 'netwatch', secrets));
    runner = buildPipelines(cfg, { exporterSinks: () => ({ consume: () => undefined }) });
  });
  after(async () => {
    log?.restore();
    await runner?.shutdown();
    await d?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('a connection to port 5432 wakes postgres/db, every request carrying the token from the file, none refused', async () => {
    runner.dispatch('connections', connEvent({ kind: 'connect', remoteAddress: '10.20.0.5', remotePort: 5432, exe: 'psql', timeUnixMs: Date.now() }));
    await until(() => d.job('postgres')?.TaskGroups[0]?.Count === 1, 'postgres/db scaled to 1');
    await until(() => log.lines.some((l) => /wake default\/postgres\/db: scaled/.test(l)), 'the wake logged', 10_000);
    assert.deepEqual(log.at('error'), []);
    assert.deepEqual(log.at('warn'), []);
    const requests = d.requests();
    assert.ok(requests.some((r) => r.method === 'POST' && r.path === '/v1/job/postgres/scale'));
    for (const r of requests) assert.equal(r.headers['x-nomad-token'], tokenHash(TOKEN), `${r.method} ${r.path}`);
  });
});
