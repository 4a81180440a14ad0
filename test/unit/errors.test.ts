// The README's error table is the users' reference: it must list exactly the classes of
// src/errors.ts, each with its code, and every class must say in its doc comment when it is raised.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import ts from 'typescript';
import * as errors from '../../src/errors';
import { repoPath } from '../helpers/paths';

interface Row {
  code: string;
  className: string;
  meaning: string;
}

/** The rows of the table under the README's "## Errors" heading: | `CODE` | `Class` | meaning |. */
function readmeRows(): Row[] {
  const lines = readFileSync(repoPath('README.md'), 'utf8').split('\n');
  const at = lines.indexOf('## Errors');
  assert.ok(at >= 0, 'README.md has an "## Errors" section');
  let i = at + 1;
  while (i < lines.length && !lines[i].startsWith('|')) i++;
  const table: string[] = [];
  for (; i < lines.length && lines[i].startsWith('|'); i++) table.push(lines[i]);
  const cells = (line: string) =>
    line
      .slice(1, -1)
      .split('|')
      .map((c) => c.trim());
  assert.deepEqual(cells(table[0]), ['code', 'class', 'meaning'], 'the error table has the columns code, class, meaning');
  return table.slice(2).map((line) => {
    const [code, className, meaning] = cells(line);
    return { code: code.replace(/`/g, ''), className: className.replace(/`/g, ''), meaning };
  });
}

interface Declared {
  code: string;
  doc: string;
}

/** Each class of src/errors.ts with the string its `code` is initialised to and its doc comment. */
function declaredClasses(): Map<string, Declared> {
  const path = repoPath('src/errors.ts');
  const file = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.ES2022, true);
  const out = new Map<string, Declared>();
  for (const node of file.statements) {
    if (!ts.isClassDeclaration(node) || !node.name) continue;
    let code = '';
    for (const m of node.members) {
      if (ts.isPropertyDeclaration(m) && m.name.getText(file) === 'code' && m.initializer && ts.isStringLiteral(m.initializer)) code = m.initializer.text;
    }
    const doc = ts
      .getJSDocCommentsAndTags(node)
      .map((d) => d.getText(file))
      .join('\n');
    out.set(node.name.text, { code, doc });
  }
  return out;
}

/** The concrete error classes src/errors.ts exports (the abstract base is not raised). */
const exported = Object.entries(errors)
  .filter(([, v]) => typeof v === 'function' && v.prototype instanceof errors.NetwatchError)
  .map(([name]) => name)
  .sort();

test('every exported error class has one stable NETWATCH_ERR_ code of its own', () => {
  const declared = declaredClasses();
  const concrete = [...declared.keys()].filter((n) => n !== 'NetwatchError').sort();
  assert.deepEqual(exported, concrete, 'every class in src/errors.ts is exported and extends NetwatchError');
  const codes = exported.map((name) => declared.get(name)?.code ?? '');
  for (const [i, name] of exported.entries()) assert.match(codes[i], /^NETWATCH_ERR_[A-Z][A-Z_]*$/, `${name} declares its code as a string literal`);
  assert.equal(new Set(codes).size, codes.length, `codes are unique: ${codes.join(', ')}`);
});

test('every error class says in a doc comment when it is raised', () => {
  const declared = declaredClasses();
  for (const name of [...exported, 'NetwatchError']) assert.match(declared.get(name)?.doc ?? '', /\S/, `${name} has a doc comment in src/errors.ts`);
});

test("the README's error table lists exactly the exported classes, each with its code and a meaning", () => {
  const declared = declaredClasses();
  const rows = readmeRows();
  const inReadme = rows.map((r) => r.className).sort();
  assert.deepEqual(inReadme, exported, 'the README table names the classes src/errors.ts exports (add or remove a row)');
  for (const r of rows) {
    assert.equal(r.code, declared.get(r.className)?.code, `README: ${r.className}'s code`);
    assert.notEqual(r.meaning, '', `README: ${r.code} says what it means`);
  }
});
