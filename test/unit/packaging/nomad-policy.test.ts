// otel/nomad/netwatch-autostart.policy.hcl grants the shipped job's agent task exactly what its
// nomad_autostart rules make the processor call. The calls are read from the code, type-checked so
// that calls are resolved rather than matched by name, whatever file they sit in and whatever the
// client is called there: every use of a NomadClient method in the processor's files, the request
// each method sends (for the event stream, with the topics its caller asks for), which requests
// only starting a stopped job reaches, and the call each is tagged with for the advice on a 403.
// So a new call fails here until what Nomad checks for it is known. What Nomad checks is from
// hashicorp/nomad: nomad/job_endpoint.go, nomad/event_endpoint.go (validateNsOp),
// command/agent/agent_endpoint.go with acl/acl.go (AllowAgentRead), and nomad/variables_endpoint.go
// with acl/acl.go (AllowVariableOperation: a capability on a path glob of the namespace's
// `variables` block); the Nomad API double, which follows the same source, is held to that table.
// Then the shipped rule wakes its group against the double, over a Task API socket, with a token
// holding nothing but the policy.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import ts from 'typescript';
import { parseConfig } from '../../../src/config';
import type { AutostartRule, NomadAutostartProcessorConfig } from '../../../src/config/types';
import type { NomadAutostartProcessor } from '../../../src/pipeline/processors/nomad_autostart';
import {
  AGENT_POLICY,
  agentPolicy,
  agentSelfRefused,
  CALL_CAPABILITIES,
  cannotReadJobs,
  capabilitiesFor,
  forbidden,
  variablesPaths,
  variablesRefused,
  versionUnknown,
  type NomadCall,
} from '../../../src/pipeline/processors/nomad_autostart/advice';
import type { CompiledRule } from '../../../src/pipeline/processors/nomad_autostart/rules';
import { buildPipelines, type PipelineRunner } from '../../../src/pipeline/runner';
import { captureLog, until, type CapturedLog } from '../../helpers/autostart';
import { NO_DEPLOYMENTS, NomadDouble, tokenHash, type DoubleToken, type VariablesCapability } from '../../helpers/nomad';
import { goGlob } from '../../helpers/nomad/acl';
import { agentYamlOf, JOB_PATH, NODE_ATTRIBUTES, readPolicy, readShippedJob, taskEnvironment, tokenFilePath } from '../../helpers/nomad-job';
import { REPO_ROOT, repoPath } from '../../helpers/paths';
import { connEvent } from '../pipeline/events';

const PROCESSOR_DIR = 'src/pipeline/processors/nomad_autostart';
const CLIENT_DIR = `${PROCESSOR_DIR}/client`;
const CLIENT_FILE = `${CLIENT_DIR}/client.ts`;

/**
 * What Nomad checks for each endpoint: any one of these capabilities. A namespace capability counts
 * in the request's namespace; `agent:read` and `agent:write` are the policy's `agent` block.
 */
const NOMAD_CHECKS: Record<string, readonly string[]> = {
  // nomad/job_endpoint.go (register-job exists from Nomad 2.0)
  'GET /v1/job/:job/scale': ['read-job', 'read-job-scaling'], // Job.ScaleStatus
  'POST /v1/job/:job/scale': ['scale-job', 'submit-job'], // Job.Scale
  'GET /v1/job/:job': ['read-job'], // Job.GetJob
  'GET /v1/job/:job/versions': ['read-job'], // Job.GetJobVersions
  'GET /v1/job/:job/allocations': ['read-job'], // Job.Allocations
  'GET /v1/job/:job/deployment': ['read-job'], // Job.LatestDeployment
  'PUT /v1/jobs': ['submit-job', 'register-job'], // Job.Register (doRegister: AllowNsOpAnyOf)
  // command/agent/agent_endpoint.go AgentSelfRequest: acl/acl.go AllowAgentRead, an agent policy of read or write
  'GET /v1/agent/self': ['agent:read', 'agent:write'],
  // nomad/variables_endpoint.go, each on the variable's path: Variables.Read needs read; Variables.List
  // refuses nothing but lists only what list allows, which read grants too (acl/policy.go
  // expandVariablesCapabilities); Variables.Apply (cas, lock-acquire, lock-release) and RenewLock need write.
  'GET /v1/var/:path': ['variables:read'],
  'GET /v1/vars': ['variables:list', 'variables:read'],
  'PUT /v1/var/:path': ['variables:write'],
};
/** Endpoints that answer a token lacking the capability with less, not 403: refused means the answer leaves out what it may not see. */
const FILTERS = new Set(['GET /v1/vars']);
/**
 * GET /v1/event/stream checks every topic asked for, each in the request's namespace
 * (nomad/event_endpoint.go validateACL, validateNsOp): the stream needs all of its topics' checks,
 * so each topic is an endpoint of its own here. An empty list: a management token only.
 */
const TOPIC_CHECKS: Readonly<Record<string, readonly string[]>> = {
  Job: ['read-job'],
  Deployment: ['read-job'],
  Evaluation: ['read-job'],
  Allocation: ['read-job'],
  Service: ['read-job'],
  CSIPlugin: ['read-job'],
  HostVolume: ['host-volume-read'],
  CSIVolume: ['csi-read-volume'],
  Node: ['node:read', 'node:write'], // AllowNodeRead
  Operator: ['operator:read', 'operator:write'], // AllowOperatorRead
  NodePool: [],
  '*': [],
};
const streamEndpoint = (verb: string, path: string, topic: string): string => `${verb} ${path}?topic=${topic}`;
for (const [topic, caps] of Object.entries(TOPIC_CHECKS)) NOMAD_CHECKS[streamEndpoint('GET', '/v1/event/stream', topic)] = caps;

/** The policy's `agent` block grants (acl/policy.go: deny, read or write; write allows reading too). */
const AGENT_GRANTS: Readonly<Record<string, readonly string[]>> = { deny: [], read: ['agent:read'], write: ['agent:read', 'agent:write'] };
/** A variables capability: one of a path glob in a namespace's `variables` block. */
const isVariables = (capability: string): boolean => capability.startsWith('variables:');
/** A capability outside namespaces (agent:read, node:read, …). */
const global = (capability: string): boolean => capability.includes(':') && !isVariables(capability);
const isVariablesEndpoint = (endpoint: string): boolean => / \/v1\/vars?\b/.test(endpoint);

/** Client methods that send nothing to Nomad. */
const LIFECYCLE = new Set(['close', 'destroy']);

/**
 * Calls not tagged with a NomadCall, because a refusal of theirs is not reported as theirs (so
 * there is no advice to check), each with why.
 */
const UNTAGGED: Readonly<Record<string, string>> = {
  'waits.ts waitReady jobScaleStatus': 'the blocking wait after a write: any failure ends the wait, then "not running after …"',
  'autostart.ts Autostart.adoptAtStart jobScaleStatus': 'a read at start; on failure the group is adopted when a wake next finds it up',
  'event-stream.ts EventStreamFollower.resync readJob':
    "the reads after each stream connection: a failure drops the connection; both need read-job, so a refusal is the stream's own on reconnecting",
};

/** Modules outside client/ must not reach Nomad by: only through NomadClient. */
const NETWORK_MODULES = new Set(['undici', 'http', 'https', 'net', 'tls', 'node:http', 'node:https', 'node:net', 'node:tls', 'node:http2', 'http2']);

// ---- reading the code -------------------------------------------------------------------------

interface Code {
  checker: ts.TypeChecker;
  /** The processor's files outside client/. */
  files: ts.SourceFile[];
  client: ts.ClassDeclaration;
}

function loadCode(): Code {
  const all = readdirSync(repoPath(PROCESSOR_DIR), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => `${PROCESSOR_DIR}/${f}`);
  const { config } = ts.readConfigFile(repoPath('tsconfig.json'), (p) => ts.sys.readFile(p)) as { config: unknown };
  const { options } = ts.parseJsonConfigFileContent(config, ts.sys, REPO_ROOT);
  const program = ts.createProgram(
    all.map((f) => repoPath(f)),
    { ...options, noEmit: true },
  );
  const sourceOf = (f: string): ts.SourceFile => program.getSourceFile(repoPath(f)) ?? assert.fail(`${f} is not in the program`);
  let client: ts.ClassDeclaration | undefined;
  sourceOf(CLIENT_FILE).forEachChild((n) => {
    if (ts.isClassDeclaration(n) && n.name?.text === 'NomadClient') client = n;
  });
  return {
    checker: program.getTypeChecker(),
    files: all.filter((f) => !f.startsWith(`${CLIENT_DIR}/`)).map(sourceOf),
    client: client ?? assert.fail(`${CLIENT_FILE} declares no class NomadClient`),
  };
}

function walk(node: ts.Node, fn: (n: ts.Node) => void): void {
  fn(node);
  node.forEachChild((c) => walk(c, fn));
}

/** A function-like declaration: what calls and references are attributed to (arrow functions belong to the one they sit in). */
function isOwner(n: ts.Node): boolean {
  return (
    ts.isMethodDeclaration(n) ||
    ts.isFunctionDeclaration(n) ||
    ts.isConstructorDeclaration(n) ||
    ts.isGetAccessorDeclaration(n) ||
    ts.isSetAccessorDeclaration(n) ||
    ((ts.isVariableDeclaration(n) || ts.isPropertyDeclaration(n)) &&
      n.initializer !== undefined &&
      (ts.isArrowFunction(n.initializer) || ts.isFunctionExpression(n.initializer)))
  );
}

/** The declaration `n` sits in, or its file for module-level code. */
function ownerOf(n: ts.Node): ts.Node {
  let p = n.parent;
  while (!isOwner(p) && !ts.isSourceFile(p)) p = p.parent;
  return p;
}

function nameOf(owner: ts.Node): string {
  if (ts.isSourceFile(owner)) return '(module)';
  const cls = ts.isClassLike(owner.parent) ? `${owner.parent.name?.text ?? '(class)'}.` : '';
  const name = (owner as ts.NamedDeclaration).name;
  return cls + (ts.isConstructorDeclaration(owner) ? 'constructor' : name && ts.isIdentifier(name) ? name.text : (name?.getText() ?? '(anonymous)'));
}

/** `waits.ts waitReady`: where a node of the processor sits. */
const whereOf = (n: ts.Node): string => `${basename(n.getSourceFile().fileName)} ${nameOf(ownerOf(n))}`;

/** The declarations an identifier refers to, through imports. */
function declarationsOf(checker: ts.TypeChecker, id: ts.Identifier | ts.PrivateIdentifier): readonly ts.Declaration[] {
  let s = ts.isShorthandPropertyAssignment(id.parent) ? checker.getShorthandAssignmentValueSymbol(id.parent) : checker.getSymbolAtLocation(id);
  if (s && s.flags & ts.SymbolFlags.Alias) s = checker.getAliasedSymbol(s);
  return s?.declarations ?? [];
}

/** The identifier that names a declaration (not a reference to anything). */
function isDeclarationName(id: ts.Node): boolean {
  const p = id.parent as ts.NamedDeclaration;
  return (
    p.name === id &&
    (ts.isMethodDeclaration(p) ||
      ts.isFunctionDeclaration(p) ||
      ts.isVariableDeclaration(p) ||
      ts.isPropertyDeclaration(p) ||
      ts.isClassDeclaration(p) ||
      ts.isParameter(p) ||
      ts.isGetAccessorDeclaration(p) ||
      ts.isSetAccessorDeclaration(p) ||
      ts.isInterfaceDeclaration(p) ||
      ts.isTypeAliasDeclaration(p) ||
      ts.isPropertySignature(p) ||
      ts.isMethodSignature(p) ||
      ts.isEnumDeclaration(p))
  );
}

/** `/v1/job/${enc(job)}/scale` → `/v1/job/:job/scale`. */
function pathOf(arg: ts.Expression | undefined): string | undefined {
  if (!arg) return undefined;
  if (ts.isStringLiteralLike(arg)) return arg.text;
  if (!ts.isTemplateExpression(arg)) return undefined;
  return arg.head.text + arg.templateSpans.map((s) => `:${s.expression.getText().replace(/^enc\((\w+)\)$/, '$1')}${s.literal.text}`).join('');
}

/** A request a client method sends; `topicsFrom`: its event-stream topics are the caller's option of that name. */
interface Request {
  verb: string;
  path: string;
  topicsFrom?: string;
}

const property = (o: ts.ObjectLiteralExpression, name: string): ts.Expression | undefined => {
  for (const p of o.properties) {
    if (p.name?.getText() !== name) continue;
    if (ts.isPropertyAssignment(p)) return p.initializer;
    if (ts.isShorthandPropertyAssignment(p)) return p.name;
  }
  return undefined;
};

/**
 * NomadClient's public methods → the requests each sends: `this.query(path)` is a GET,
 * `this.write(verb, path)` says its verb, `this.transport.send|open({ method, path, query })` says
 * both (and `query.topic: o.<option>` names where the stream's topics come from). A request this
 * cannot read is `? <its text>`, which no check matches.
 */
function clientRequests(client: ts.ClassDeclaration): Map<string, Request[]> {
  const out = new Map<string, Request[]>();
  for (const m of client.members) {
    if (!ts.isMethodDeclaration(m) || !m.body || !ts.isIdentifier(m.name)) continue;
    if (ts.getCombinedModifierFlags(m) & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) continue;
    const requests: Request[] = [];
    walk(m.body, (c) => {
      if (!ts.isCallExpression(c) || !ts.isPropertyAccessExpression(c.expression)) return;
      const callee = c.expression.name.text;
      const on = c.expression.expression;
      const [a0, a1] = c.arguments;
      const unread = (): void => void requests.push({ verb: '?', path: c.getText() });
      if (on.kind === ts.SyntaxKind.ThisKeyword && callee === 'query') {
        const path = pathOf(a0);
        if (path) requests.push({ verb: 'GET', path });
        else unread();
      } else if (on.kind === ts.SyntaxKind.ThisKeyword && callee === 'write') {
        const path = pathOf(a1);
        if (a0 && ts.isStringLiteral(a0) && path) requests.push({ verb: a0.text, path });
        else unread();
      } else if (ts.isPropertyAccessExpression(on) && on.name.text === 'transport' && (callee === 'send' || callee === 'open')) {
        if (!a0 || !ts.isObjectLiteralExpression(a0)) return unread();
        const verb = property(a0, 'method');
        const path = pathOf(property(a0, 'path'));
        if (!verb || !ts.isStringLiteral(verb) || !path) return unread();
        const query = property(a0, 'query');
        const topic = query && ts.isObjectLiteralExpression(query) ? property(query, 'topic') : undefined;
        if (topic === undefined) requests.push({ verb: verb.text, path });
        else if (ts.isPropertyAccessExpression(topic)) requests.push({ verb: verb.text, path, topicsFrom: topic.name.text });
        else unread();
      }
    });
    out.set(m.name.text, requests);
  }
  return out;
}

/** One use of a NomadClient method in the processor. */
interface ClientCall {
  method: string;
  /** `waits.ts waitReady`. */
  where: string;
  owner: ts.Node;
  /** The call, or undefined when the method is used other than by calling it. */
  call: ts.CallExpression | undefined;
  /** The NomadCall its failure is tagged with: `ctx.call('<call>', () => …)`, `tagged('<call>', () => …)`. */
  tag: NomadCall | undefined;
  endpoints: string[];
}

/** The string literals (and template heads) a value can be built from: constants followed, conditions skipped. */
function literalsOf(code: Code, e: ts.Node, seen = new Set<ts.Node>()): string[] | undefined {
  if (seen.has(e)) return [];
  seen.add(e);
  if (ts.isIdentifier(e) || ts.isPropertyAccessExpression(e)) {
    const id = ts.isIdentifier(e) ? e : e.name;
    if (!ts.isIdentifier(id)) return undefined;
    const values: ts.Expression[] = [];
    const decls = declarationsOf(code.checker, id);
    for (const d of decls) if ((ts.isVariableDeclaration(d) || ts.isPropertyDeclaration(d)) && d.initializer) values.push(d.initializer);
    // Assignments anywhere in the processor: `this.topics = …`.
    for (const f of code.files) {
      walk(f, (n) => {
        if (!ts.isBinaryExpression(n) || n.operatorToken.kind !== ts.SyntaxKind.EqualsToken) return;
        const left = ts.isPropertyAccessExpression(n.left) ? n.left.name : n.left;
        if (ts.isIdentifier(left) && declarationsOf(code.checker, left).some((d) => decls.includes(d))) values.push(n.right);
      });
    }
    if (values.length === 0) return undefined;
    const out: string[] = [];
    for (const v of values) {
      const l = literalsOf(code, v, seen);
      if (!l) return undefined;
      out.push(...l);
    }
    return out;
  }
  const out: string[] = [];
  const visit = (n: ts.Node): void => {
    if (ts.isConditionalExpression(n)) {
      visit(n.whenTrue);
      visit(n.whenFalse);
    } else if (ts.isStringLiteralLike(n)) out.push(n.text);
    else if (ts.isTemplateExpression(n)) out.push(n.head.text);
    else n.forEachChild(visit);
  };
  visit(e);
  return out;
}

/** The event-stream topics a call asks for (`Job:<job>` is topic Job), or undefined when they cannot be read. */
function topicsAt(code: Code, call: ts.CallExpression | undefined, option: string): string[] | undefined {
  const arg = call?.arguments[0];
  const value = arg && ts.isObjectLiteralExpression(arg) ? property(arg, option) : undefined;
  const literals = value && literalsOf(code, value);
  if (!literals || literals.length === 0) return undefined;
  return [...new Set(literals.map((l) => l.split(':')[0]!))].sort();
}

/** The NomadCall tag of a call sitting inside `f('<call>', …)` where f's first parameter is a NomadCall. */
function tagOf(code: Code, n: ts.Node): NomadCall | undefined {
  const owner = ownerOf(n);
  for (let p: ts.Node = n.parent; p !== owner; p = p.parent) {
    if (!ts.isCallExpression(p) || !p.arguments.some((a) => a.pos <= n.pos && n.end <= a.end)) continue;
    const decl = code.checker.getResolvedSignature(p)?.declaration;
    const first = decl && !ts.isJSDocSignature(decl) ? decl.parameters[0] : undefined;
    const a0 = p.arguments[0];
    if (first?.type?.getText() === 'NomadCall' && a0 && ts.isStringLiteral(a0)) return a0.text as NomadCall;
  }
  return undefined;
}

interface Reading {
  requests: Map<string, Request[]>;
  calls: ClientCall[];
  /** Every endpoint the processor reaches, and whether only starting a stopped job reaches it. */
  reach: { endpoint: string; onlyStartStopped: boolean }[];
  /** Ways to Nomad other than NomadClient. */
  bypasses: string[];
}

function readCode(): Reading {
  const code = loadCode();
  const { checker, client } = code;
  const requests = clientRequests(client);
  const calls: ClientCall[] = [];
  const bypasses: string[] = [];
  /** Who refers to each declaration of the processor: declaration → the owners referring to it. */
  const referredBy = new Map<ts.Node, Set<ts.Node>>();
  const owners = new Set<ts.Node>();
  const callsNomad = new Set<ts.Node>();

  for (const f of code.files) {
    walk(f, (n) => {
      if (isOwner(n)) owners.add(n);
      if (ts.isImportDeclaration(n) && ts.isStringLiteral(n.moduleSpecifier)) {
        const m = n.moduleSpecifier.text;
        if (NETWORK_MODULES.has(m) || /(^|\/)transport$/.test(m)) bypasses.push(`${basename(f.fileName)} imports ${m}`);
      }
      if (!ts.isIdentifier(n) && !ts.isPrivateIdentifier(n)) return;
      if (n.text === 'fetch' && !ts.isPropertyAccessExpression(n.parent)) bypasses.push(`${whereOf(n)} uses fetch`);
      if (isDeclarationName(n)) return;
      const owner = ownerOf(n);
      for (const d of declarationsOf(checker, n)) {
        if (d.parent === client && ts.isMethodDeclaration(d) && ts.isIdentifier(d.name)) {
          const access = n.parent;
          const call =
            ts.isPropertyAccessExpression(access) && access.name === n && ts.isCallExpression(access.parent) && access.parent.expression === access
              ? access.parent
              : undefined;
          const method = d.name.text;
          const endpoints = (requests.get(method) ?? []).flatMap((r) =>
            r.topicsFrom === undefined
              ? [`${r.verb} ${r.path}`]
              : (topicsAt(code, call, r.topicsFrom) ?? ['(topics this test cannot read)']).map((t) => streamEndpoint(r.verb, r.path, t)),
          );
          calls.push({ method, where: whereOf(n), owner, call, tag: tagOf(code, n), endpoints });
          if (!LIFECYCLE.has(method)) callsNomad.add(owner);
        } else if (isOwner(d) && d !== owner) {
          referredBy.set(d, (referredBy.get(d) ?? new Set()).add(owner));
        }
      }
    });
  }

  // Declarations that reach Nomad: those that call it, and every one referring to one of them.
  for (let grew = true; grew;) {
    grew = false;
    for (const [d, by] of referredBy) {
      if (!callsNomad.has(d)) continue;
      for (const o of by) {
        if (callsNomad.has(o)) continue;
        callsNomad.add(o);
        grew = true;
      }
    }
  }
  const reachesNomad = (n: ts.Node): boolean => {
    let yes = false;
    walk(n, (c) => {
      if (!(ts.isIdentifier(c) || ts.isPrivateIdentifier(c)) || isDeclarationName(c)) return;
      for (const d of declarationsOf(checker, c)) {
        if ((d.parent === client && !LIFECYCLE.has((d as ts.NamedDeclaration).name?.getText() ?? '')) || callsNomad.has(d)) yes = true;
      }
    });
    return yes;
  };

  // startStopped returns before anything that reaches Nomad unless the rule has start_stopped.
  const startStopped = [...owners].filter((o) => ts.isMethodDeclaration(o) && o.name.getText() === 'startStopped') as ts.MethodDeclaration[];
  assert.equal(startStopped.length, 1, 'one method startStopped in the processor');
  const statements = startStopped[0]!.body!.statements;
  const guard = statements.findIndex(
    (st) =>
      ts.isIfStatement(st) &&
      st.expression.getText() === '!rule.cfg.start_stopped' &&
      ts.isBlock(st.thenStatement) &&
      st.thenStatement.statements.length > 0 &&
      ts.isReturnStatement(st.thenStatement.statements.at(-1)!),
  );
  assert.ok(
    guard >= 0 && statements.slice(0, guard + 1).every((st) => !reachesNomad(st)),
    'startStopped returns before calling Nomad unless the rule has start_stopped',
  );

  // Declarations only startStopped leads to: itself, and those referred to only by such.
  const only = new Set<ts.Node>([startStopped[0]!]);
  for (let grew = true; grew;) {
    grew = false;
    for (const [d, by] of referredBy) {
      if (only.has(d) || ![...by].every((o) => only.has(o))) continue;
      only.add(d);
      grew = true;
    }
  }
  const reached = new Map<string, boolean>();
  for (const c of calls) for (const e of c.endpoints) reached.set(e, (reached.get(e) ?? true) && only.has(c.owner));
  const reach = [...reached].map(([endpoint, onlyStartStopped]) => ({ endpoint, onlyStartStopped })).sort((a, b) => a.endpoint.localeCompare(b.endpoint));
  return { requests, calls, reach, bypasses };
}

// ---- policies as grants -----------------------------------------------------------------------

/** One capability a policy grants: in a namespace (a variables one on the variables `path` matches), or (namespace undefined) outside namespaces. */
interface Grant {
  namespace: string | undefined;
  capability: string;
  path?: string;
}
/** An endpoint a rule of that namespace makes the processor call; a Variables endpoint, on these variables. */
interface Need {
  namespace: string;
  endpoint: string;
  paths?: readonly string[];
}

/** A namespace's `variables` block: capabilities by path glob. */
type VariablesBlocks = ReadonlyMap<string, readonly { path: string; capabilities: readonly string[] }[]>;

function grantsOf(namespaces: ReadonlyMap<string, readonly string[]>, agent: string | undefined, variables: VariablesBlocks = new Map()): Grant[] {
  return [
    ...[...namespaces].flatMap(([namespace, caps]) => caps.map((capability) => ({ namespace, capability }))),
    ...[...variables].flatMap(([namespace, paths]) =>
      paths.flatMap((p) => p.capabilities.map((c) => ({ namespace, capability: `variables:${c}`, path: p.path }))),
    ),
    ...(agent === undefined ? [] : (AGENT_GRANTS[agent] ?? [`agent:${agent} (not a policy)`])).map((capability) => ({ namespace: undefined, capability })),
  ];
}

/** Whether `g` grants capability `c` where `n` needs it, on `variable` for a variables capability (acl/acl.go: a path glob, `*` any run of characters). */
const grantsAt = (g: Grant, c: string, n: Need, variable: string | undefined): boolean =>
  g.capability === c &&
  g.namespace === (global(c) ? undefined : n.namespace) &&
  (!isVariables(c) || (g.path !== undefined && variable !== undefined && goGlob(g.path, variable)));
/** Every variable the endpoint touches (or the endpoint, for one on none) is granted one of the capabilities its check accepts. */
const covers = (grants: readonly Grant[], n: Need): boolean =>
  (n.paths ?? [undefined]).every((v) => (NOMAD_CHECKS[n.endpoint] ?? []).some((c) => grants.some((g) => grantsAt(g, c, n, v))));
const uncovered = (grants: readonly Grant[], needs: readonly Need[]): Need[] => needs.filter((n) => !covers(grants, n));

/**
 * Grants that could go with every need still covered. One exception: scale-job next to submit-job
 * (Job.Scale accepts either), so a start_stopped namespace stays covered when submit-job is
 * narrowed to register-job (Nomad 2.0), which Job.Scale does not accept.
 */
function superfluous(grants: readonly Grant[], needs: readonly Need[]): Grant[] {
  return grants.filter((g, i) => {
    const rest = grants.filter((_, j) => j !== i);
    if (uncovered(rest, needs).length > 0) return false;
    return !(g.capability === 'scale-job' && rest.some((r) => r.namespace === g.namespace && r.capability === 'submit-job'));
  });
}

let code: Reading;
before(() => {
  code = readCode();
});

/** The processor settings besides its rules that decide what it calls: the cluster's sleep and its Variables. */
type ProcessorNeeds = Pick<NomadAutostartProcessorConfig, 'namespace' | 'cluster'> & {
  rules: readonly Pick<AutostartRule, 'namespace' | 'start_stopped' | 'idle_after_ms'>[];
};

/**
 * The variables each Variables endpoint touches (activity.ts, cluster.ts): reads and the listing,
 * the nodes' activity under variables_prefix; writes, this node's activity and the groups' locks
 * under lock_path.
 */
function variablesOf(endpoint: string, cluster: NomadAutostartProcessorConfig['cluster']): string[] {
  const activity = `${cluster.variables_prefix}/node-1`;
  return endpoint.startsWith('PUT ') ? [activity, `${cluster.lock_path}/default/web/web`] : [activity];
}

/**
 * What the processor calls, per namespace: each rule's endpoints in its namespace; the Variables
 * endpoints in the processor's namespace, when the cluster decides sleep (cluster.enabled and a
 * rule with idle_after; dry_run aside).
 */
function needsOf(p: ProcessorNeeds): Need[] {
  const out = new Map<string, Need>();
  for (const r of p.rules)
    for (const x of code.reach) {
      if (isVariablesEndpoint(x.endpoint) || (x.onlyStartStopped && !r.start_stopped)) continue;
      out.set(`${r.namespace} ${x.endpoint}`, { namespace: r.namespace, endpoint: x.endpoint });
    }
  if (p.cluster.enabled && p.rules.some((r) => r.idle_after_ms > 0))
    for (const x of code.reach)
      if (isVariablesEndpoint(x.endpoint))
        out.set(`${p.namespace} ${x.endpoint}`, { namespace: p.namespace, endpoint: x.endpoint, paths: variablesOf(x.endpoint, p.cluster) });
  return [...out.values()];
}

const DEFAULT_CLUSTER: NomadAutostartProcessorConfig['cluster'] = {
  enabled: true,
  node: '',
  variables_prefix: 'nomad/jobs/netwatch/activity',
  lock_path: 'nomad/jobs/netwatch/sleep',
  lock_ttl_ms: 15_000,
  grace_ms: 5_000,
};

/** The variables block the processor advises (advice.ts variablesPolicy) for `cluster`. */
const advisedVariables = (cluster: NomadAutostartProcessorConfig['cluster']) => variablesPaths(cluster.variables_prefix, cluster.lock_path);

// ---- the tests ----------------------------------------------------------------------------------

test('the code is read as expected: the client methods send the requests Nomad documents, and the processor calls them', () => {
  const { requests, reach } = code;
  assert.deepEqual(requests.get('jobScaleStatus'), [{ verb: 'GET', path: '/v1/job/:job/scale' }]);
  assert.deepEqual(requests.get('scale'), [{ verb: 'POST', path: '/v1/job/:job/scale' }]);
  assert.deepEqual(requests.get('registerJob'), [{ verb: 'PUT', path: '/v1/jobs' }]);
  assert.deepEqual(requests.get('agentSelf'), [{ verb: 'GET', path: '/v1/agent/self' }]);
  assert.deepEqual(requests.get('eventStream'), [{ verb: 'GET', path: '/v1/event/stream', topicsFrom: 'topics' }]);
  assert.ok(code.calls.some((c) => c.method === 'scale' && c.tag === 'scale' && c.where === 'context.ts FlowContext.scale'));
  assert.deepEqual(reach, [
    { endpoint: 'GET /v1/agent/self', onlyStartStopped: false },
    { endpoint: 'GET /v1/event/stream?topic=Deployment', onlyStartStopped: false },
    { endpoint: 'GET /v1/event/stream?topic=Job', onlyStartStopped: false },
    { endpoint: 'GET /v1/job/:job', onlyStartStopped: false },
    { endpoint: 'GET /v1/job/:job/deployment', onlyStartStopped: false },
    { endpoint: 'GET /v1/job/:job/scale', onlyStartStopped: false },
    // Reading the job's versions and registering it happen only to start a stopped job.
    { endpoint: 'GET /v1/job/:job/versions', onlyStartStopped: true },
    // The cluster's sleep: the nodes' activity and the locks.
    { endpoint: 'GET /v1/var/:path', onlyStartStopped: false },
    { endpoint: 'GET /v1/vars', onlyStartStopped: false },
    { endpoint: 'POST /v1/job/:job/scale', onlyStartStopped: false },
    { endpoint: 'PUT /v1/jobs', onlyStartStopped: true },
    { endpoint: 'PUT /v1/var/:path', onlyStartStopped: false },
  ]);
  assert.deepEqual(requests.get('readVariable'), [{ verb: 'GET', path: '/v1/var/:path' }]);
  assert.deepEqual(requests.get('listVariables'), [{ verb: 'GET', path: '/v1/vars' }]);
  for (const m of ['putVariable', 'acquireLock', 'renewLock', 'releaseLock']) assert.deepEqual(requests.get(m), [{ verb: 'PUT', path: '/v1/var/:path' }], m);
});

test('the processor reaches Nomad only through NomadClient, by calling its methods', () => {
  assert.deepEqual(code.bypasses, []);
  assert.deepEqual(
    code.calls.filter((c) => c.call === undefined).map((c) => `${c.where} uses NomadClient.${c.method} without calling it`),
    [],
  );
});

test('every Nomad endpoint the processor calls is one whose ACL check is known here', () => {
  for (const c of code.calls) {
    if (c.endpoints.length === 0) assert.ok(LIFECYCLE.has(c.method), `${c.where}: NomadClient.${c.method} sends no request this test can read`);
    for (const e of c.endpoints) assert.ok(e in NOMAD_CHECKS, `${c.where} calls ${e}: add what Nomad checks for it to NOMAD_CHECKS`);
  }
});

test('every call is tagged with the call a refusal is reported as, or is listed as one whose refusal is not its own to report', () => {
  const untagged = code.calls.filter((c) => c.tag === undefined && !LIFECYCLE.has(c.method)).map((c) => `${c.where} ${c.method}`);
  assert.deepEqual(
    untagged.filter((u) => !(u in UNTAGGED)),
    [],
    'tag these (ctx.call or tagged) or list them in UNTAGGED with why',
  );
  assert.deepEqual(
    Object.keys(UNTAGGED).filter((u) => !untagged.includes(u)),
    [],
    'UNTAGGED lists calls that are gone or tagged now',
  );
});

test('the capability a 403 message asks for is one Nomad accepts for every endpoint of that call', () => {
  const tagged = code.calls.filter((c) => c.tag !== undefined);
  assert.deepEqual([...new Set(tagged.map((c) => c.tag))].sort(), Object.keys(CALL_CAPABILITIES).sort(), 'every NomadCall is made, and only those');
  for (const c of tagged) {
    for (const e of c.endpoints) {
      for (const cap of CALL_CAPABILITIES[c.tag!])
        assert.ok(NOMAD_CHECKS[e]?.includes(cap), `"${c.tag}" (${c.where}) asks for ${cap}, which ${e} does not accept`);
    }
  }
  // What each message says: a flow's refusal disables the rule; the stream's and agent/self's fall back.
  const rule = { name: 'pg', cfg: { job: 'postgres', group: 'db', namespace: 'apps', start_stopped: false } } as CompiledRule;
  for (const call of ['scale status', 'scale', 'job read', 'job register', 'deployment read'] as const)
    assert.match(forbidden(rule, call), new RegExp(`the token needs ${CALL_CAPABILITIES[call][0]}\\b`));
  assert.match(cannotReadJobs('apps'), /namespace apps \(read-job\)/);
  for (const call of ['variable read', 'variable list', 'variable write', 'lock'] as const)
    assert.match(variablesRefused(call, 'p', 'apps', 'P', '30s'), new RegExp(`the token needs ${CALL_CAPABILITIES[call][0]}\\b`));
  assert.match(
    versionUnknown(agentSelfRefused()),
    /the token cannot read it \(agent:read\);.*grant agent:read \(agent \{ policy = "read" \} in the token's policy\) or set server_version/,
  );
});

test('capabilitiesFor, the agent block and the variables block (the policy the processor advises) cover every endpoint a rule can reach, and nothing more', () => {
  assert.equal(agentPolicy(), `agent { policy = "${AGENT_POLICY}" }`);
  const elsewhere = { ...DEFAULT_CLUSTER, variables_prefix: 'netwatch/activity', lock_path: 'locks/netwatch' };
  for (const start_stopped of [false, true])
    for (const cluster of [DEFAULT_CLUSTER, elsewhere, { ...DEFAULT_CLUSTER, enabled: false }]) {
      const rule = { namespace: 'apps', start_stopped, idle_after_ms: 60_000 };
      const caps = capabilitiesFor(rule);
      assert.deepEqual(caps.filter(global), [], 'capabilitiesFor names namespace capabilities only');
      const variables = cluster.enabled ? new Map([['ops', advisedVariables(cluster)]]) : new Map();
      const grants = grantsOf(new Map([['apps', caps]]), AGENT_POLICY, variables);
      const needs = needsOf({ namespace: 'ops', cluster, rules: [rule] });
      const what = `start_stopped ${start_stopped}, variables under ${cluster.variables_prefix} and ${cluster.lock_path}${cluster.enabled ? '' : ' (cluster off)'}`;
      assert.deepEqual(uncovered(grants, needs), [], `${what}: ${caps.join(', ')}, agent ${AGENT_POLICY} and the variables block leave these uncovered`);
      assert.deepEqual(superfluous(grants, needs), [], `${what}: granted, but no endpoint reached needs it`);
    }
});

test('the shipped policy grants, in each namespace of the shipped rules and outside namespaces, exactly what those rules need', async () => {
  const shipped = await readShippedJob();
  const cfg = parseConfig(agentYamlOf(shipped), JOB_PATH, taskEnvironment(shipped, 'netwatch'));
  const processor = cfg.processors.nomad_autostart as NomadAutostartProcessorConfig;
  const rules = processor.rules;
  const policy = await readPolicy();
  assert.deepEqual(Object.keys(policy.raw).sort(), ['agent', 'namespace'], 'namespace blocks and the agent block only: no node or operator rules');
  assert.deepEqual(policy.raw.agent, [{ policy: AGENT_POLICY }], `one agent block: policy = "${AGENT_POLICY}"`);
  const clustered = processor.cluster.enabled && rules.some((r) => r.idle_after_ms > 0);
  assert.ok(clustered, 'the shipped processor decides sleep for the cluster');
  for (const [ns, blocks] of Object.entries<any[]>(policy.raw.namespace)) {
    for (const b of blocks)
      assert.deepEqual(
        Object.keys(b),
        ns === processor.namespace ? ['capabilities', 'variables'] : ['capabilities'],
        `namespace "${ns}": capabilities only (a policy shorthand expands differently across Nomad versions), and the variables block in the processor's namespace`,
      );
  }
  const namespaces = new Set(rules.map((r) => r.namespace));
  assert.deepEqual(
    [...policy.namespaces.keys()].sort(),
    [...new Set([...namespaces, processor.namespace])].sort(),
    "one block per namespace the rules name, and the processor's",
  );
  for (const ns of namespaces) {
    const caps = policy.namespaces.get(ns)!;
    assert.deepEqual([...caps].sort(), [...new Set(rules.filter((r) => r.namespace === ns).flatMap((r) => capabilitiesFor(r)))].sort(), `namespace "${ns}"`);
  }
  assert.deepEqual(
    [...policy.variables],
    [[processor.namespace, advisedVariables(processor.cluster)]],
    'the variables block the processor advises, in its namespace',
  );
  const grants = grantsOf(policy.namespaces, policy.agent, policy.variables);
  const needs = needsOf(processor);
  assert.ok(needs.some((n) => n.endpoint === 'GET /v1/agent/self'));
  assert.ok(needs.some((n) => n.endpoint === 'PUT /v1/var/:path'));
  assert.deepEqual(uncovered(grants, needs), [], 'nothing grants these');
  assert.deepEqual(superfluous(grants, needs), [], 'granted, but nothing the rules reach needs it');
});

describe('the Nomad API double checks each endpoint the processor reaches as NOMAD_CHECKS says', () => {
  /** The variable the Variables endpoints are probed on, and the glob a probe token holds its one capability on. */
  const PROBE_VARIABLE = 'nomad/jobs/netwatch/activity/probe';
  const probeToken = (capability: string): DoubleToken =>
    capability.startsWith('agent:')
      ? { secretId: `only ${capability}`, agent: capability.slice('agent:'.length) as 'read' | 'write' }
      : isVariables(capability)
        ? {
            secretId: `only ${capability}`,
            rules: [
              {
                namespace: 'default',
                variables: [{ path: 'nomad/jobs/netwatch/*', capabilities: [capability.slice('variables:'.length) as VariablesCapability] }],
              },
            ],
          }
        : global(capability)
          ? assert.fail(`the double's tokens cannot hold ${capability}`)
          : { secretId: `only ${capability}`, rules: [{ namespace: 'default', capabilities: [capability] }] };

  test('one token per capability: each endpoint refuses exactly the tokens whose capability it does not accept', async () => {
    // Every capability some reached endpoint accepts, and one none does.
    const probes = [...new Set([...code.reach.flatMap((r) => NOMAD_CHECKS[r.endpoint] ?? []), 'list-jobs'])].sort();
    const d = await NomadDouble.start({ acl: true, tokens: [{ secretId: 'mgmt', management: true }, ...probes.map(probeToken)] });
    try {
      d.addJob({ ID: 'postgres', Update: NO_DEPLOYMENTS, TaskGroups: [{ Name: 'db', Count: 0, Scaling: { Min: 0, Max: 1 } }] });
      const job: unknown = await (await fetch(`${d.url}/v1/job/postgres`, { headers: { 'X-Nomad-Token': 'mgmt' } })).json();
      const seeded = await fetch(`${d.url}/v1/var/${PROBE_VARIABLE}`, {
        method: 'PUT',
        headers: { 'X-Nomad-Token': 'mgmt' },
        body: JSON.stringify({ Items: { probe: 'x' } }),
      });
      assert.equal(seeded.status, 200);
      /**
       * Whether `endpoint` refuses the token, for postgres/db (or the probe variable) in namespace
       * default: a 403, or for a listing, leaving out the probe variable. A stream is hung up on
       * once its status is known.
       */
      const refusedBy = async (endpoint: string, token: string): Promise<boolean> => {
        const [verb, target] = endpoint.split(' ') as [string, string];
        const [path, topic] = target.split('?topic=') as [string, string | undefined];
        const query = topic ? `&topic=${topic}:postgres` : path === '/v1/vars' ? '&prefix=nomad/jobs/netwatch/' : '';
        const url = `${d.url}${path.replace(':job', 'postgres').replace(':path', PROBE_VARIABLE)}?namespace=default${query}`;
        const body =
          verb === 'POST'
            ? { Count: 1, Target: { Group: 'db' }, Message: 'probe' }
            : verb === 'PUT'
              ? isVariablesEndpoint(endpoint)
                ? { Items: { probe: 'x' } }
                : { Job: job }
              : undefined;
        const ac = new AbortController();
        const res = await fetch(url, { method: verb, headers: { 'X-Nomad-Token': token }, body: body && JSON.stringify(body), signal: ac.signal });
        const listed = FILTERS.has(endpoint) && res.status === 200 ? ((await res.json()) as { Path: string }[]) : undefined;
        ac.abort();
        return res.status === 403 || (listed !== undefined && !listed.some((v) => v.Path === PROBE_VARIABLE));
      };
      const wrong: string[] = [];
      for (const { endpoint } of code.reach) {
        const accepts = NOMAD_CHECKS[endpoint] ?? assert.fail(`${endpoint}: no check known (see the tests above)`);
        assert.equal(await refusedBy(endpoint, 'mgmt'), false, `${endpoint} with a management token`);
        for (const cap of probes) {
          const refused = await refusedBy(endpoint, `only ${cap}`);
          if (refused === accepts.includes(cap)) wrong.push(`${endpoint} ${refused ? 'refuses' : 'accepts'} ${cap}`);
        }
      }
      assert.deepEqual(wrong, []);
    } finally {
      await d.stop();
    }
  });
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
      tokens: [
        {
          secretId: TOKEN,
          agent: policy.agent as DoubleToken['agent'],
          rules: [...policy.namespaces].map(([namespace, capabilities]) => ({
            namespace,
            capabilities,
            variables: policy.variables.get(namespace)?.map((v) => ({ path: v.path, capabilities: v.capabilities as VariablesCapability[] })),
          })),
          // The agent task's workload identity: its implicit read of nomad/jobs/netwatch does not reach below it.
          workload: { namespace: 'default', job: 'netwatch', group: 'netwatch', task: 'netwatch' },
        },
      ],
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

  test("the agent reads the servers' version and follows the event stream: one checked write per wake", async () => {
    const processor = runner.processors.get('nomad_autostart') as NomadAutostartProcessor;
    await processor.ready();
    const mode = processor.writeMode;
    assert.deepEqual(
      [mode?.kind, mode?.kind === 'check-and-set' ? mode.from : undefined],
      ['check-and-set', 'agent'],
      'from /v1/agent/self, not server_version',
    );
    assert.equal(processor.warmJob('default', 'postgres').current, true, 'warm from the stream and the job read after it');
  });

  test('a connection to port 5432 wakes postgres/db, every request carrying the token from the file, none refused', async () => {
    runner.dispatch('connections', connEvent({ kind: 'connect', remoteAddress: '10.20.0.5', remotePort: 5432, exe: 'psql', timeUnixMs: Date.now() }));
    await until(() => d.job('postgres')?.TaskGroups[0]?.Count === 1, 'postgres/db scaled to 1');
    await until(() => log.lines.some((l) => /wake default\/postgres\/db: scaled/.test(l)), 'the wake logged', 10_000);
    assert.deepEqual(log.at('error'), []);
    assert.deepEqual(log.at('warn'), []);
    assert.deepEqual(
      log.at('info').filter((l) => /cannot|unknown|refused/.test(l)),
      [],
    );
    const requests = d.requests();
    for (const path of ['/v1/agent/self', '/v1/event/stream', '/v1/job/postgres'])
      assert.ok(
        requests.some((r) => r.method === 'GET' && r.path === path),
        `GET ${path}`,
      );
    assert.ok(requests.some((r) => r.method === 'POST' && r.path === '/v1/job/postgres/scale'));
    // The node's activity, published under the node ID the job's env block gives the task.
    const activity = `nomad/jobs/netwatch/activity/${NODE_ATTRIBUTES['node.unique.id']}`;
    await until(() => d.variable(activity)?.Items?.['default/postgres/db'] === 'active', "this node's activity published as active");
    for (const r of requests) assert.equal(r.headers['x-nomad-token'], tokenHash(TOKEN), `${r.method} ${r.path}`);
  });
});
