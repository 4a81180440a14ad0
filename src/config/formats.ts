// The formats every schema uses, by `nw.*` name (never clobbering convict's own `port`, `int`, ...).
// section.ts calls them directly and never coerces, so `seed_existing: "no"` can never silently
// become true; they are also registered with convict, so convict itself accepts the same schemas.
import convict from 'convict';
import { isIP } from 'node:net';
import { cidrProblem } from './cidr';
import { parseDestination } from './destination';
import { parseDuration } from './duration';
import { parseNomadVersion } from './nomad-version';
import { serverNameProblem } from './server-name';
import { describe, isMapping, list } from './problems';

/**
 * How a setting takes a scalar that YAML typed (see typed-text.ts): `text` for string settings,
 * `value` for numbers and booleans, `nested` for containers checked later by their own schema.
 */
export type TextPolicy = 'text' | 'value' | 'nested';

interface FormatDef {
  policy: TextPolicy;
  /** The value is a mapping of names (which may contain dots) to values; the file's entries merge over the default's. */
  mapping?: true;
  /** Throws an Error whose message is one line, without the key path (section.ts prepends it). */
  validate(x: unknown): void;
}

function fail(message: string): never {
  throw new Error(message);
}

/** Longest prefix: the node or the group named below it needs room in Nomad's 128 characters. */
const MAX_VARIABLE_PREFIX = 80;

/**
 * A Nomad Variables path that netwatch writes below (nomad/structs/variables.go ValidatePath):
 * segments of [a-zA-Z0-9-_~], and under the reserved top-level "nomad" only "nomad/jobs/…".
 */
function nomadVariablePath(x: unknown): void {
  if (typeof x !== 'string' || x === '') fail(`must be a Nomad Variables path such as nomad/jobs/netwatch/activity, got ${describe(x)}`);
  if (!/^[a-zA-Z0-9\-_~]+(\/[a-zA-Z0-9\-_~]+)*$/.test(x))
    fail(
      `must be segments of letters, digits, "-", "_" and "~" joined by "/" (Nomad's rule for variable paths), without a leading or trailing "/"; got ${describe(x)}`,
    );
  if (x.length > MAX_VARIABLE_PREFIX) fail(`must be at most ${MAX_VARIABLE_PREFIX} characters (Nomad takes 128, and netwatch adds below it), got ${x.length}`);
  const [top, second] = x.split('/');
  if (top === 'nomad' && second !== 'jobs')
    fail(`below the reserved "nomad" Nomad takes only nomad/jobs/…, e.g. nomad/jobs/netwatch/activity; got ${describe(x)}`);
}

/** One thing wrong with a value; `index` places it at one item of a list (`ports[1]`), else at the setting. */
export interface FormatProblem {
  index?: number;
  message: string;
}

/** Thrown for problems with single items of a list, so each is reported at its own index. */
class ItemProblems extends Error {
  constructor(readonly items: readonly Required<FormatProblem>[]) {
    super(items.map((p) => `item ${p.index}: ${p.message}`).join('; ')); // as convict would show it
  }
}

function failItems(items: Required<FormatProblem>[]): void {
  if (items.length) throw new ItemProblems(items);
}

const isInt = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x);

function bool(x: unknown): void {
  if (x === null || x === undefined) fail('is required: write true or false');
  if (typeof x !== 'boolean') fail(`must be true or false, got ${describe(x)}`);
}

function stringList(x: unknown, what: string, each?: (s: string) => string | undefined): void {
  if (!Array.isArray(x)) fail(`must be a list of ${what}, e.g. [${typeof x === 'string' || typeof x === 'number' ? x : '...'}], got ${describe(x)}`);
  const bad: Required<FormatProblem>[] = [];
  x.forEach((item, index) => {
    const message = typeof item !== 'string' || item === '' ? `must be a non-empty string, got ${describe(item)}` : each?.(item);
    if (message) bad.push({ index, message });
  });
  failItems(bad);
}

const isPort = (p: unknown): boolean => isInt(p) && p >= 1 && p <= 65535;
const portProblem = (p: unknown): string => `must be a port number from 1 to 65535, got ${describe(p)}`;

function portItems(x: readonly unknown[]): void {
  failItems(x.flatMap((p, index) => (isPort(p) ? [] : [{ index, message: portProblem(p) }])));
}

/** Explicit histogram boundaries in whole microseconds: 1 to BUCKETS_MAX of them, increasing, each in 1..BUCKET_US_MAX. */
function bucketList(x: unknown): void {
  if (!Array.isArray(x) || x.length === 0 || x.length > BUCKETS_MAX) {
    fail(`must be a list of 1 to ${BUCKETS_MAX} bucket boundaries in microseconds, in increasing order, e.g. [10, 100, 1000], got ${describe(x)}`);
  }
  failItems(
    x.flatMap((b, index) => {
      if (!isInt(b) || b < 1 || b > BUCKET_US_MAX)
        return [{ index, message: `must be a whole number of microseconds from 1 to ${BUCKET_US_MAX}, got ${describe(b)}` }];
      const before: unknown = x[index - 1];
      if (index > 0 && isInt(before) && b <= before) return [{ index, message: `must be greater than the boundary before it (${before}), got ${b}` }];
      return [];
    }),
  );
}

/** A list of rules; the component checks each item against its own schema, so a bad one leaves the others checked. */
function ruleList(x: unknown): void {
  if (isMapping(x)) fail('must be a list of rules; start each rule with "- " (a list item)');
  if (!Array.isArray(x)) fail(`must be a list of rules, got ${describe(x)}`);
}

function oneOf(values: readonly string[]): (x: unknown) => void {
  return (x) => {
    if (typeof x !== 'string' || !values.includes(x)) fail(`must be one of ${list(values)}; got ${describe(x)}`);
  };
}

function oneOfList(values: readonly string[]): (x: unknown) => void {
  return (x) => stringList(x, values.join(' or '), (s) => (values.includes(s) ? undefined : `${JSON.stringify(s)} is not one of ${list(values)}`));
}

/** Scalars become strings in string maps (`X-Org-Id: 42` is meant as text); containers do not. */
function stringMap(x: unknown, keyCheck?: (k: string) => string | undefined, valueCheck?: (v: string) => boolean): void {
  if (!isMapping(x)) fail(`must be a mapping of names to values, got ${describe(x)}`);
  const bad: string[] = [];
  for (const [k, v] of Object.entries(x)) {
    const keyWhy = keyCheck?.(k);
    if (keyWhy) bad.push(keyWhy);
    // Values are never printed: header maps carry credentials.
    else if (!['string', 'number', 'boolean'].includes(typeof v))
      bad.push(`the value of ${JSON.stringify(k)} must be a single value (text), not ${v === null ? 'empty' : describe(v)}`);
    else if (valueCheck && !valueCheck(String(v))) bad.push(`the value of ${JSON.stringify(k)} must not contain line breaks`);
  }
  if (bad.length) fail(bad.join('; '));
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/; // RFC 9110 token
const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const IFNAME = /^[^/:\s]{1,15}$/; // IFNAMSIZ - 1; dev_valid_name() also refuses "/" and ":" (aliases)
export const RING_BUFFER_MIN = 4096;
export const RING_BUFFER_MAX = 1 << 30;
export const TABLE_SIZE_MIN = 16;
export const TABLE_SIZE_MAX = 1 << 20;
/** Histogram bucket boundaries in microseconds: at most this many, none above a minute (no RTT is that long). */
/** The kernel counts histograms into CONN_HIST_BUCKETS (bpf/conn/conn.h) buckets: at most 23 bounds, then +Inf. */
export const BUCKETS_MAX = 23;
export const BUCKET_US_MAX = 60_000_000;
const DROP_REASON = /^[A-Z][A-Z0-9_]*$/;
const DROP_REASON_PREFIX = 'SKB_DROP_REASON_';

/** A drop reason as the kernel names it, without its enum prefix (checked against the kernel at start). */
function dropReasonProblem(s: string): string | undefined {
  if (s.startsWith(DROP_REASON_PREFIX))
    return `${JSON.stringify(s)}: write the reason without the ${DROP_REASON_PREFIX} prefix, e.g. ${s.slice(DROP_REASON_PREFIX.length) || 'NOT_SPECIFIED'}`;
  if (!DROP_REASON.test(s))
    return `${JSON.stringify(s)} is not a drop reason name: reasons are upper case, as the kernel names them (e.g. NOT_SPECIFIED, NETFILTER_DROP)`;
  return undefined;
}

export const CONTAINER_RUNTIMES = ['docker', 'containerd', 'cri-o', 'podman', 'systemd', 'nomad', 'unknown'] as const;

function nearestPowersOfTwo(n: number): string {
  const lo = 2 ** Math.floor(Math.log2(n));
  return `${lo} or ${lo * 2}`;
}

export const FORMATS: Readonly<Record<string, FormatDef>> = {
  'nw.bool': { policy: 'value', validate: bool },
  /** null = not set; the component decides (tls.insecure follows the endpoint's scheme). */
  'nw.optional-bool': { policy: 'value', validate: (x) => (x === null ? undefined : bool(x)) },
  'nw.count': {
    policy: 'value',
    validate: (x) => (isInt(x) && x >= 1 ? undefined : fail(`must be a whole number of at least 1, got ${describe(x)}`)),
  },
  'nw.wakeup-bytes': {
    policy: 'value',
    validate: (x) => (x === 'auto' || (isInt(x) && x >= 0) ? undefined : fail(`must be auto or a whole number of bytes (0 or more), got ${describe(x)}`)),
  },
  'nw.count-or-zero': {
    policy: 'value',
    validate: (x) => (isInt(x) && x >= 0 ? undefined : fail(`must be a whole number (0 or more), got ${describe(x)}`)),
  },
  'nw.ratio': {
    policy: 'value',
    validate: (x) =>
      typeof x === 'number' && x > 0 && x <= 1 ? undefined : fail(`must be a number greater than 0 and at most 1 (1 keeps every record), got ${describe(x)}`),
  },
  'nw.port': {
    policy: 'value',
    validate: (x) => (isPort(x) ? undefined : fail(portProblem(x))),
  },
  'nw.ring-buffer-size': {
    policy: 'value',
    validate: (x) => {
      if (!isInt(x)) fail(`must be a size in bytes (a whole number such as 4194304 for 4 MiB), got ${describe(x)}`);
      if (x < RING_BUFFER_MIN) fail(`must be at least ${RING_BUFFER_MIN} bytes (one page), got ${x}`);
      if (x > RING_BUFFER_MAX) fail(`must be at most ${RING_BUFFER_MAX} bytes (1 GiB), got ${x}`);
      if ((x & (x - 1)) !== 0) fail(`must be a power of two (the kernel's BPF ring buffer requires it), got ${x}; the nearest are ${nearestPowersOfTwo(x)}`);
    },
  },
  /** Must be more than zero: every duration here is an interval or a timeout. */
  'nw.duration': {
    policy: 'text',
    validate: (x) => {
      const ms = typeof x === 'string' ? parseDuration(x) : undefined;
      if (ms === undefined) fail(`must be a duration with a unit, such as 10s, 1m30s or 500ms; got ${describe(x)}`);
      if (ms < 1) fail(`must be at least 1ms, got ${describe(x)}`);
    },
  },
  /** null = not set (e.g. idle_after: never). */
  'nw.optional-duration': {
    policy: 'text',
    validate: (x) => {
      if (x === null) return;
      const ms = typeof x === 'string' ? parseDuration(x) : undefined;
      if (ms === undefined) fail(`must be a duration with a unit, such as 15m, 1h or 30s; got ${describe(x)}`);
      if (ms < 1) fail(`must be at least 1ms, got ${describe(x)} (leave it out for never)`);
    },
  },
  /** Like nw.duration, but 0 (any unit) is allowed: it turns the thing off. */
  'nw.duration-or-zero': {
    policy: 'text',
    validate: (x) => {
      const ms = typeof x === 'string' ? parseDuration(x) : undefined;
      if (ms === undefined) fail(`must be a duration with a unit, such as 5s or 1m, or 0s to turn it off; got ${describe(x)}`);
    },
  },
  'nw.interfaces': {
    policy: 'text',
    validate: (x) => {
      if (x === 'all') return;
      if (typeof x === 'string') fail(`must be all or a list of interface names such as [${x}]; got ${describe(x)}`);
      stringList(x, 'interface names, or all', (s) =>
        IFNAME.test(s) ? undefined : `${JSON.stringify(s)} is not an interface name (at most 15 characters, no "/", ":" or white space)`,
      );
      if ((x as unknown[]).length === 0) fail('must name at least one interface, or be all');
    },
  },
  'nw.text': { policy: 'text', validate: (x) => (typeof x === 'string' ? undefined : fail(`must be text, got ${describe(x)}`)) },
  'nw.host': {
    policy: 'text',
    validate: (x) => {
      if (typeof x !== 'string' || (!HOSTNAME.test(x) && isIP(x) === 0)) fail(`must be an IP address or a host name (without a port), got ${describe(x)}`);
    },
  },
  'nw.string-map': { policy: 'text', mapping: true, validate: (x) => stringMap(x, (k) => (k === '' ? 'names must not be empty' : undefined)) },
  'nw.header-map': {
    policy: 'text',
    mapping: true,
    validate: (x) =>
      stringMap(
        x,
        (k) => (HEADER_NAME.test(k) ? undefined : `${JSON.stringify(k)} is not a valid header name (letters, digits and !#$%&'*+-.^_\`|~ only)`),
        (v) => !/[\r\n]/.test(v),
      ),
  },
  'nw.name-list': { policy: 'text', validate: (x) => stringList(x, 'names') },
  'nw.id-list': { policy: 'text', validate: (x) => stringList(x, 'component ids') },
  'nw.cidr-list': { policy: 'text', validate: (x) => stringList(x, 'CIDRs', cidrProblem) },
  'nw.port-list': {
    policy: 'value',
    validate: (x) => {
      if (!Array.isArray(x)) fail(`must be a list of ports, e.g. [${isInt(x) ? x : 443}], got ${describe(x)}`);
      portItems(x);
    },
  },
  'nw.port-or-list': {
    policy: 'value',
    validate: (x) => {
      if (Array.isArray(x)) return portItems(x);
      if (typeof x !== 'number') fail(`must be a port or a list of ports, e.g. 5432 or [5432, 5433], got ${describe(x)}`);
      if (!isPort(x)) fail(portProblem(x));
    },
  },
  'nw.server-name-list': { policy: 'text', validate: (x) => stringList(x, 'server names', serverNameProblem) },
  'nw.destination-list': {
    policy: 'text',
    validate: (x) =>
      stringList(x, 'destinations such as "10.1.0.5:5432", "10.2.0.0/16:8080" or "*:6379"', (s) => {
        const d = parseDestination(s);
        return d.ok ? undefined : d.message;
      }),
  },
  'nw.interface-list': {
    policy: 'text',
    validate: (x) =>
      stringList(x, 'interface names', (s) =>
        IFNAME.test(s) ? undefined : `${JSON.stringify(s)} is not an interface name (at most 15 characters, no "/", ":" or white space)`,
      ),
  },
  'nw.wait-for': { policy: 'text', validate: oneOf(['running', 'healthy', 'none']) },
  'nw.idle-scale-down': { policy: 'text', validate: oneOf(['woken', 'any']) },
  'nw.nomad-version': {
    policy: 'text',
    validate: (x) => {
      if (typeof x !== 'string') fail(`must be a Nomad version such as 2.0.5, or empty, got ${describe(x)}`);
      if (x !== '' && parseNomadVersion(x) === undefined)
        fail(`must be a Nomad version such as 2.0.5 or 1.9.3+ent (as nomad version prints it), or empty; got ${describe(x)}`);
    },
  },
  'nw.nomad-variable-path': { policy: 'text', validate: nomadVariablePath },
  'nw.lock-ttl': {
    policy: 'text',
    validate: (x) => {
      const ms = typeof x === 'string' ? parseDuration(x) : undefined;
      if (ms === undefined) fail(`must be a duration with a unit, such as 15s or 1m; got ${describe(x)}`);
      // Nomad refuses other TTLs (nomad/structs/variables.go minVariableLockTTL, maxVariableLockTTL).
      if (ms < 10_000 || ms > 24 * 3_600_000) fail(`must be from 10s to 24h (what Nomad accepts for a lock's TTL), got ${describe(x)}`);
    },
  },
  'nw.tc-attach-mode': { policy: 'text', validate: oneOf(['auto', 'tcx', 'clsact']) },
  'nw.autostart-rules': { policy: 'nested', validate: ruleList },
  'nw.drop-reason-list': { policy: 'text', validate: (x) => stringList(x, 'drop reasons', dropReasonProblem) },
  'nw.bucket-list-us': { policy: 'value', validate: bucketList },
  'nw.histogram-aggregation': { policy: 'text', validate: oneOf(['explicit_bucket_histogram', 'base2_exponential_bucket_histogram']) },
  'nw.table-size': {
    policy: 'value',
    validate: (x) =>
      isInt(x) && x >= TABLE_SIZE_MIN && x <= TABLE_SIZE_MAX
        ? undefined
        : fail(`must be a whole number from ${TABLE_SIZE_MIN} to ${TABLE_SIZE_MAX}, got ${describe(x)}`),
  },
  'nw.direction-list': { policy: 'text', validate: oneOfList(['outbound', 'inbound']) },
  'nw.transport-list': { policy: 'text', validate: oneOfList(['tcp', 'udp']) },
  'nw.runtime-list': { policy: 'text', validate: oneOfList(CONTAINER_RUNTIMES) },
  'nw.rule-list': { policy: 'nested', validate: ruleList },
  /** '' (off) or a bearer token: at least 16 characters, no spaces (RFC 6750 token68 characters). */
  'nw.bearer-token': {
    policy: 'text',
    validate: (x) => {
      if (typeof x !== 'string') fail(`must be text, got ${describe(x)}`);
      if (x === '') return;
      // The value itself is never printed.
      if (!/^[A-Za-z0-9\-._~+/]+=*$/.test(x)) fail('must use only letters, digits and -._~+/ (then = padding), with no spaces');
      if (x.length < 16) fail(`must be at least 16 characters long (got ${x.length}); generate one with: openssl rand -hex 32`);
    },
  },
  'nw.compression': { policy: 'text', validate: oneOf(['gzip', 'none']) },
  'nw.encoding': { policy: 'text', validate: oneOf(['proto', 'json']) },
  'nw.verbosity': { policy: 'text', validate: oneOf(['basic', 'normal', 'detailed']) },
  'nw.log-level': { policy: 'text', validate: oneOf(['debug', 'info', 'warn', 'error']) },
};

let registered = false;
/** Idempotent: lets convict load the same schemas (a unit test builds every schema with it). */
export function registerFormats(): void {
  if (registered) return;
  registered = true;
  for (const [name, def] of Object.entries(FORMATS)) convict.addFormat({ name, validate: (x: unknown) => def.validate(x) });
}

/**
 * What the format finds wrong with `x` (nothing when it is valid). Built-in `Object` (convict's
 * format for a map whose values are mappings, e.g. per-metric switches) only asks for a mapping:
 * its entries are checked by the component, each against its own schema.
 */
export function formatProblems(format: unknown, x: unknown): readonly FormatProblem[] {
  if (format === Object) return isMapping(x) ? [] : [{ message: `must be a mapping (name: settings lines), got ${describe(x)}` }];
  const def = typeof format === 'string' ? FORMATS[format] : undefined;
  if (!def) return [{ message: `has the wrong shape: got ${describe(x)}` }];
  try {
    def.validate(x);
    return [];
  } catch (e) {
    return e instanceof ItemProblems ? e.items : [{ message: (e as Error).message }];
  }
}

/** The problems of one value as one message (undefined when it is good), for checks outside the walker. */
export function formatProblem(format: unknown, x: unknown): string | undefined {
  const problems = formatProblems(format, x);
  return problems.length ? problems.map((p) => (p.index === undefined ? p.message : `item ${p.index}: ${p.message}`)).join('; ') : undefined;
}

/** Whether a setting of this format holds a mapping of names (anything else given a mapping is wrong). */
export function takesMapping(format: unknown): boolean {
  return format === Object || (typeof format === 'string' && FORMATS[format]?.mapping === true);
}

/** Maps of mappings (format Object) resolve their text later, per entry, by their own schema. */
export function policyOf(format: unknown): TextPolicy {
  if (typeof format === 'string' && FORMATS[format]) return FORMATS[format].policy;
  if (format === Object) return 'nested';
  return 'value';
}
