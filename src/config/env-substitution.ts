// `${env:VAR}` / `${env:VAR:-default}` / `$$` in scalar values, following the OpenTelemetry
// Collector's confmap (envprovider + expand.go):
//  - a set variable is used even when empty; the default applies only when it is unset;
//  - unset with no default → empty;
//  - names must match ^[a-zA-Z_][a-zA-Z0-9_]*$;
//  - `${VAR}` without a scheme means env (the collector's default scheme);
//  - `$$` is a literal `$` (so `$${env:X}` stays literal text);
//  - a value that is exactly one reference is read as YAML (`port: ${env:P}` gives a number),
//    embedded references splice text;
//  - defaults may themselves contain references.
// Deliberate differences (see the report): a variable's value is inserted verbatim (the collector
// expands references inside it again and turns `$$` in it into `$`), an unterminated `${` is an
// error instead of literal text, and schemes other than env are errors.
import { parse as parseYaml } from 'yaml';
import { isMapping, joinPath, type Problem } from './problems';
import { TypedText } from './typed-text';

export type Env = Readonly<Record<string, string | undefined>>;

const NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]+$/;
const MAX_NESTING = 8;

class ExpandError extends Error {}

interface Scanned {
  text: string;
  end: number;
  refs: number;
  literalChars: number;
  /** Set when the scan was exactly one reference: whether the variable was unset with no default. */
  unsetNoDefault: boolean;
  usedEmptyDefault: boolean;
}

/** Substitute references in every string scalar of the tree (keys are never expanded). */
export function expandEnv(tree: unknown, env: Env, path: string, problems: Problem[]): unknown {
  if (typeof tree === 'string') {
    try {
      return expandString(tree, env);
    } catch (e) {
      if (!(e instanceof ExpandError)) throw e;
      problems.push({ path, message: e.message });
      return null; // reported once: the setting then takes its default instead of failing again
    }
  }
  if (Array.isArray(tree)) return tree.map((v, i) => expandEnv(v, env, joinPath(path, i), problems));
  if (isMapping(tree)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(tree)) out[k] = expandEnv(v, env, joinPath(path, k), problems);
    return out;
  }
  return tree;
}

/** Exported for tests. Returns a string, or TypedText when the whole value was one reference. */
export function expandString(s: string, env: Env): string | TypedText {
  if (!s.includes('$')) return s;
  const r = scan(s, 0, false, env, 0);
  if (r.refs !== 1 || r.literalChars !== 0) return r.text;
  // The whole value was one reference: read it as YAML, as the collector does.
  if (r.unsetNoDefault) return new TypedText('', null);
  if (r.usedEmptyDefault) return '';
  return new TypedText(r.text, yamlScalar(r.text));
}

function yamlScalar(text: string): unknown {
  try {
    return parseYaml(text) ?? null;
  } catch {
    return text; // not YAML: it stays text (confmap.NewRetrievedFromYAML does the same)
  }
}

function scan(s: string, start: number, untilBrace: boolean, env: Env, depth: number): Scanned {
  let text = '';
  let refs = 0;
  let literalChars = 0;
  let unsetNoDefault = false;
  let usedEmptyDefault = false;
  let i = start;
  while (i < s.length) {
    const c = s[i];
    if (c === '}' && untilBrace) return { text, end: i, refs, literalChars, unsetNoDefault, usedEmptyDefault };
    if (c === '$' && s[i + 1] === '$') {
      text += '$';
      literalChars++;
      i += 2;
      continue;
    }
    if (c === '$' && s[i + 1] === '{') {
      const r = reference(s, i, env, depth);
      text += r.value;
      refs++;
      unsetNoDefault = r.unsetNoDefault;
      usedEmptyDefault = r.usedEmptyDefault;
      i = r.end;
      continue;
    }
    text += c;
    literalChars++;
    i++;
  }
  if (untilBrace) throw new ExpandError(unterminated(s, start));
  return { text, end: i, refs, literalChars, unsetNoDefault, usedEmptyDefault };
}

function unterminated(s: string, from: number): string {
  const at = s.lastIndexOf('${', from);
  return `${JSON.stringify(s.slice(Math.max(0, at)))} has no closing "}"; write $\${ for a literal "\${"`;
}

/** Parses `${...}` starting at `s[at] === '$'`; returns the value and the index after the closing brace. */
function reference(s: string, at: number, env: Env, depth: number): { value: string; end: number; unsetNoDefault: boolean; usedEmptyDefault: boolean } {
  if (depth >= MAX_NESTING) throw new ExpandError(`references nested more than ${MAX_NESTING} deep`);
  let i = at + 2;
  let name = '';
  let scheme: string | undefined;
  let hasDefault = false;
  // Read `[scheme:]NAME` up to `}` or `:-`.
  while (i < s.length) {
    const c = s[i];
    if (c === '}') break;
    if (c === ':' && s[i + 1] === '-' && scheme !== undefined) {
      hasDefault = true;
      break;
    }
    if (c === ':' && scheme === undefined && SCHEME.test(name)) {
      scheme = name;
      name = '';
      i++;
      continue;
    }
    if (c === '$') throw new ExpandError(`${JSON.stringify(s.slice(at))}: a reference's name cannot contain "$"`);
    name += c;
    i++;
  }
  if (i >= s.length) throw new ExpandError(unterminated(s, at));
  const written = `\${${scheme !== undefined ? `${scheme}:` : ''}${name}${hasDefault ? ':-...' : ''}}`;
  if (scheme !== undefined && scheme !== 'env') {
    throw new ExpandError(`${written} uses the "${scheme}" provider; netwatch supports only \${env:NAME} and \${env:NAME:-default}`);
  }
  if (!NAME.test(name)) {
    throw new ExpandError(`${written}: ${JSON.stringify(name)} is not a valid environment variable name (letters, digits and _, not starting with a digit)`);
  }
  let fallback: Scanned | undefined;
  if (hasDefault) {
    fallback = scan(s, i + 2, true, env, depth + 1);
    i = fallback.end;
  }
  const value = env[name];
  return {
    value: value ?? fallback?.text ?? '',
    end: i + 1,
    unsetNoDefault: value === undefined && !fallback,
    usedEmptyDefault: value === undefined && fallback !== undefined && fallback.text === '',
  };
}
