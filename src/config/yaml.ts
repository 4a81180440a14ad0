// agent.yaml text → plain JS tree. Non-string plain scalars keep their source text (TypedText).
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { joinPath, type Problem } from './problems';
import { TypedText } from './typed-text';

const MAX_DEPTH = 64; // guards against alias loops (`a: &x [*x]`)

export function readYaml(text: string): { tree: unknown; problems: Problem[] } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length) {
    // Only the first: a syntax error makes the parser's later complaints noise.
    const e = doc.errors[0]!; // errors.length > 0
    const pos = lineCounter.linePos(e.pos[0]);
    const line = text.split('\n')[pos.line - 1] ?? '';
    let message = `invalid YAML: ${e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`;
    if (line.includes('${') && /[{[]/.test(line.replace(/\$\{[^}]*\}/g, ''))) {
      message += '; a ${...} inside { } or [ ] must be quoted, e.g. "${env:NAME}"';
    }
    return { tree: undefined, problems: [{ path: `line ${pos.line}, column ${pos.col}`, message }] };
  }
  const problems: Problem[] = [];
  const tree = toTree(doc, doc.contents, '', problems, 0);
  return { tree, problems };
}

function toTree(doc: Document, node: Node | null | undefined, path: string, problems: Problem[], depth: number): unknown {
  if (node === null || node === undefined) return null;
  if (depth > MAX_DEPTH) {
    problems.push({ path, message: `nested more than ${MAX_DEPTH} levels deep (an alias that refers to itself?)` });
    return null;
  }
  if (isAlias(node)) return toTree(doc, node.resolve(doc), path, problems, depth + 1);
  if (isScalar(node)) {
    const v = node.value;
    if (v === null || v === undefined || typeof v === 'string') return v ?? null;
    return node.type === 'PLAIN' && typeof node.source === 'string' ? new TypedText(node.source, v) : v;
  }
  if (isSeq(node)) return node.items.map((item, i) => toTree(doc, item as Node, joinPath(path, i), problems, depth + 1));
  if (isMap(node)) {
    const out: Record<string, unknown> = {};
    for (const pair of node.items) {
      const k = pair.key;
      if (!isScalar(k) || (k.value !== null && typeof k.value === 'object')) {
        problems.push({ path: path || '(top level)', message: 'keys must be plain names, not lists or mappings' });
        continue;
      }
      const key = typeof k.source === 'string' && typeof k.value !== 'string' ? k.source : String(k.value);
      if (key === '__proto__' || key === 'constructor' || key === 'prototype') {
        problems.push({ path: joinPath(path, key), message: 'this name is reserved and cannot be used as a key' });
        continue;
      }
      out[key] = toTree(doc, pair.value as Node | null, joinPath(path, key), problems, depth + 1);
    }
    return out;
  }
  problems.push({ path, message: 'unsupported YAML node' });
  return null;
}
