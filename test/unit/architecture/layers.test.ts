// The data path flows one way (README "Architecture"): a module imports only from its own layer or
// the layers below it. This test reads every import in src/ (type-only ones too: a type is a
// dependency as well) and names each one that runs back up, so the picture stays true.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import ts from 'typescript';
import { repoPath } from '../../helpers/paths';

const SRC = repoPath('src');

/** Bottom to top. A receiver's folder spans several layers: each file sits where its role does. */
const LAYERS = ['catalogue', 'base', 'config', 'kernel', 'decoders', 'enrich', 'pipeline', 'telemetry', 'receivers', 'server', 'agent', 'cli'] as const;
type Layer = (typeof LAYERS)[number];

/** Files of src/receivers/<type>/ below the receivers layer, by name. */
const RECEIVER_FILE_LAYERS: Readonly<Record<string, Layer>> = {
  'layout.ts': 'base', // mirrors the C header: constants only, so config may state kernel limits
  'config.ts': 'config',
  'event.ts': 'decoders',
  'decoder.ts': 'decoders',
  'seed.ts': 'decoders',
  'reasons.ts': 'decoders',
  'settings.ts': 'decoders',
  'client-hello.ts': 'decoders',
  'reassembly.ts': 'decoders',
  'dedupe.ts': 'decoders',
  'sni-tracker.ts': 'decoders',
  'pipeline-event.ts': 'enrich',
  'attributes.ts': 'telemetry',
  'metrics.ts': 'telemetry',
  'logs.ts': 'telemetry',
};

function layerOf(file: string): Layer {
  const p = relative(SRC, file).split('\\').join('/');
  const receiverFile = /^receivers\/[^/]+\/([^/]+)$/.exec(p);
  if (receiverFile) return RECEIVER_FILE_LAYERS[receiverFile[1]] ?? 'receivers';
  const top = p.split('/')[0];
  switch (top) {
    case 'catalogue':
      return 'catalogue';
    case 'errors.ts':
    case 'log.ts':
    case 'wire':
      return 'base';
    case 'config':
    case 'kernel':
    case 'enrich':
    case 'pipeline':
    case 'telemetry':
    case 'receivers':
    case 'server':
    case 'cli':
      return top;
    case 'agent.ts':
    case 'components.ts':
      return 'agent';
    case 'index.ts':
      return 'cli';
    default:
      throw new Error(`${p}: no layer assigned; add it to test/unit/architecture/layers.test.ts`);
  }
}

/**
 * src/components.ts is the component manifest: the config registry, the telemetry sources, the
 * processor registry and the event and config unions are derived from it, so those modules may read
 * it. That is safe only while the manifest loads nothing above config (checked below): factories load
 * their runtime halves lazily.
 */
const MANIFEST = join(SRC, 'components.ts');

interface Import {
  target: string;
  typeOnly: boolean;
  /** require() inside a function: loaded on first call, not with the module. */
  lazy: boolean;
}

function listTs(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return listTs(p);
    return p.endsWith('.ts') && !p.endsWith('.d.ts') ? [p] : [];
  });
}

function resolveSpec(from: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  const base = resolve(dirname(from), spec);
  for (const c of [`${base}.ts`, join(base, 'index.ts')]) {
    try {
      if (statSync(c).isFile()) return c;
    } catch {
      // not this candidate
    }
  }
  return undefined; // package.json and the like: outside src/
}

function importsOf(file: string): Import[] {
  const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
  const out: Import[] = [];
  const add = (spec: string, typeOnly: boolean, lazy: boolean): void => {
    const target = resolveSpec(file, spec);
    if (target) out.push({ target, typeOnly, lazy });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const c = node.importClause;
      const named = c?.namedBindings && ts.isNamedImports(c.namedBindings) ? c.namedBindings.elements : undefined;
      const typeOnly =
        c !== undefined && (c.isTypeOnly || (c.name === undefined && named !== undefined && named.length > 0 && named.every((e) => e.isTypeOnly)));
      add(node.moduleSpecifier.text, typeOnly, false);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      const named = node.exportClause && ts.isNamedExports(node.exportClause) ? node.exportClause.elements : undefined;
      add(node.moduleSpecifier.text, node.isTypeOnly || (named !== undefined && named.length > 0 && named.every((e) => e.isTypeOnly)), false);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      add(node.argument.literal.text, true, false);
    } else if (ts.isCallExpression(node) && node.arguments.length === 1 && ts.isStringLiteral(node.arguments[0])) {
      const callee = node.expression;
      const isRequire = ts.isIdentifier(callee) && callee.text === 'require';
      const isDynamic = callee.kind === ts.SyntaxKind.ImportKeyword;
      if (isRequire || isDynamic) add(node.arguments[0].text, false, true);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

const FILES = listTs(SRC);
const IMPORTS = new Map(FILES.map((f) => [f, importsOf(f)]));
const rel = (p: string): string => relative(SRC, p).split('\\').join('/');
const rank = (f: string): number => LAYERS.indexOf(layerOf(f));

test('every module of src/ has a layer', () => {
  for (const f of FILES) assert.doesNotThrow(() => layerOf(f));
});

test('no module imports from a layer above its own', () => {
  const upward: string[] = [];
  for (const [from, imports] of IMPORTS) {
    for (const { target } of imports) {
      if (target === MANIFEST) continue;
      if (rank(target) > rank(from)) upward.push(`src/${rel(from)} (${layerOf(from)}) imports src/${rel(target)} (${layerOf(target)})`);
    }
  }
  assert.deepEqual(upward, []);
});

test('no receiver imports another receiver', () => {
  const crossing: string[] = [];
  for (const [from, imports] of IMPORTS) {
    const own = /^receivers\/([^/]+)\//.exec(rel(from))?.[1];
    if (!own) continue;
    for (const { target } of imports) {
      const other = /^receivers\/([^/]+)\//.exec(rel(target))?.[1];
      if (other && other !== own) crossing.push(`src/${rel(from)} imports src/${rel(target)}`);
    }
  }
  assert.deepEqual(crossing, []);
});

test('the component manifest loads nothing above config: runtime halves load lazily', () => {
  const seen = new Set<string>();
  const above: string[] = [];
  const walk = (f: string, via: string): void => {
    if (seen.has(f)) return;
    seen.add(f);
    for (const { target, typeOnly, lazy } of IMPORTS.get(f) ?? []) {
      if (typeOnly || lazy) continue;
      const isFactory = target === MANIFEST || /^receivers\/[^/]+\/index\.ts$/.test(rel(target)) || rel(target).endsWith('factories.ts');
      if (!isFactory && rank(target) > LAYERS.indexOf('config')) above.push(`${via} → src/${rel(target)} (${layerOf(target)})`);
      else walk(target, `${via} → src/${rel(target)}`);
    }
  };
  walk(MANIFEST, 'src/components.ts');
  assert.deepEqual(above, []);
});
