// agent.yaml → AgentConfig: YAML, env substitution, one convict-shaped schema per component
// (walked by section.ts), pipelines, then every problem at once in a single ConfigError, or a
// deeply frozen config.
import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { ConfigError } from '../errors';
import type { BuildContext, ComponentKind } from './component';
import { parseComponentId } from './component-id';
import { expandEnv, type Env } from './env-substitution';
import { deepFreeze } from './freeze';
import { readOtelEnv, type OtelEnv } from './otel-env';
import { checkPipelines, type Defined } from './pipelines';
import { describe, isMapping, joinPath, list, problemText, unknownKeyMessage, type Problem } from './problems';
import { KIND_ORDER, KINDS } from './registry';
import { serviceSpec } from './schemas/service';
import { checkSection } from './section';
import type { AgentConfig, ServiceConfig } from './types';
import { parseDuration } from './duration';
import { readYaml } from './yaml';

const TOP_LEVEL = ['receivers', 'processors', 'exporters', 'service'] as const;
const TOP_LEVEL_HINTS: Readonly<Record<string, string>> = {
  extensions: 'netwatch has no extensions',
  connectors: 'netwatch has no connectors',
};

export function loadConfigFile(path: string, env: Env = process.env): AgentConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'ENOENT' ? 'no such file' : err.code === 'EACCES' ? 'permission denied' : err.code === 'EISDIR' ? 'is a directory' : err.message;
    throw new ConfigError([`cannot read the configuration file: ${why} (give one with -c FILE)`], path);
  }
  return parseConfig(text, path, env);
}

export function parseConfig(text: string, source: string, env: Env = process.env): AgentConfig {
  const yaml = readYaml(text);
  if (yaml.problems.length) throw new ConfigError(yaml.problems.map(problemText), source);
  const problems: Problem[] = [];
  const tree = expandEnv(yaml.tree, env, '', problems);
  const top = topLevel(tree, problems);
  const otelEnv = readOtelEnv(env);

  // Deprecated type name → where it is used (reported once per name).
  const notices = new Map<string, { current: string; paths: string[] }>();
  const components = {} as Record<ComponentKind, Record<string, unknown>>;
  const defined = {} as Record<ComponentKind, Map<string, string | undefined>>;
  for (const kind of KIND_ORDER) {
    const r = loadKind(kind, top[kind], otelEnv, problems, notices);
    components[kind] = r.configs;
    defined[kind] = r.defined;
  }
  const service = loadService(top.service, otelEnv, defined, problems);
  if (service) checkServerPort(service, components.exporters as AgentConfig['exporters'], problems);
  if (service) checkSamePerPipeline(service, components.receivers, problems);

  if (problems.length || !service) throw new ConfigError(problems.map(problemText), source);
  return deepFreeze({
    source,
    receivers: components.receivers,
    processors: components.processors,
    exporters: components.exporters,
    service,
    ...(notices.size
      ? {
          notices: [...notices].map(
            ([old, n]) => `"${old}" is the deprecated old name of "${n.current}" (the collector's since v0.144), used by ${n.paths.join(', ')}; rename it`,
          ),
        }
      : {}),
  } as AgentConfig);
}

function topLevel(tree: unknown, problems: Problem[]): Record<string, unknown> {
  if (tree === null || tree === undefined) return {};
  if (!isMapping(tree)) {
    problems.push({ path: '(top level)', message: `the file must be a mapping with ${list(TOP_LEVEL)}, got ${describe(tree)}` });
    return {};
  }
  for (const key of Object.keys(tree)) {
    if (!(TOP_LEVEL as readonly string[]).includes(key))
      problems.push({
        path: key,
        message: unknownKeyMessage(key, TOP_LEVEL, Object.hasOwn(TOP_LEVEL_HINTS, key) ? TOP_LEVEL_HINTS[key] : undefined).replace(
          'unknown key',
          'unknown top-level key',
        ),
      });
  }
  return tree;
}

function loadKind(
  kind: ComponentKind,
  section: unknown,
  env: OtelEnv,
  problems: Problem[],
  notices: Map<string, { current: string; paths: string[] }>,
): { configs: Record<string, unknown>; defined: Map<string, string | undefined> } {
  const configs: Record<string, unknown> = {};
  const defined = new Map<string, string | undefined>();
  if (section === null || section === undefined) return { configs, defined };
  if (!isMapping(section)) {
    problems.push({ path: kind, message: `must be a mapping of ${KINDS[kind].noun} ids (type or type/name) to their settings, got ${describe(section)}` });
    return { configs, defined };
  }
  const { noun, types } = KINDS[kind];
  for (const [id, body] of Object.entries(section)) {
    const path = joinPath(kind, id);
    const parsed = parseComponentId(id);
    defined.set(id, parsed.ok ? parsed.type : undefined);
    if (!parsed.ok) {
      problems.push({ path, message: parsed.message });
      continue;
    }
    const def = Object.hasOwn(types, parsed.type) ? types[parsed.type] : undefined;
    if (!def) {
      problems.push({ path, message: `unknown ${noun} type "${parsed.type}" (known: ${list(Object.keys(types).sort())})` });
      continue;
    }
    if (def.deprecatedAliasOf)
      notices.set(parsed.type, { current: def.deprecatedAliasOf, paths: [...(notices.get(parsed.type)?.paths ?? []), joinPath(kind, id)] });
    const spec = def.schema(env);
    const checked = checkSection(spec, body, path);
    problems.push(...checked.problems);
    if (!checked.value) continue;
    const ctx: BuildContext = { id, path, env, provided: checked.provided, invalid: checked.invalid, problems: [] };
    const config = def.build(checked.value, ctx);
    problems.push(...ctx.problems);
    configs[id] = config;
  }
  return { configs, defined };
}

function loadService(section: unknown, env: OtelEnv, defined: Defined, problems: Problem[]): ServiceConfig | undefined {
  const checked = checkSection(serviceSpec(env), section, 'service');
  problems.push(...checked.problems);
  if (env.resourceProblem) problems.push({ path: 'service.telemetry.resource', message: env.resourceProblem });
  // Pipelines are checked even when telemetry settings are wrong, so that every problem shows.
  const rawPipelines = checked.invalid.has('pipelines') ? undefined : (checked.value?.pipelines ?? pipelinesOf(section));
  const pipelines = rawPipelines ? checkPipelines(rawPipelines, defined, problems) : [];
  if (!checked.value || checked.problems.length) return undefined;
  const t = checked.value.telemetry;
  const srv = checked.value.server;
  return {
    pipelines,
    shutdown_timeout_ms: parseDuration(checked.value.shutdown_timeout)!,
    server: {
      enabled: srv.enabled,
      host: srv.host,
      port: srv.port,
      bearer_token: srv.bearer_token,
      window: { max_events: srv.window.max_events, max_age_ms: parseDuration(srv.window.max_age)! },
    },
    telemetry: {
      logs: { level: t.logs.level },
      metrics: {
        export_interval_ms: parseDuration(t.metrics.export_interval)!,
        cardinality_limit: t.metrics.cardinality_limit,
        export_timeout_ms: parseDuration(t.metrics.export_timeout)!,
      },
      sdk_disabled: env.sdkDisabled,
      sdk_log_level: env.sdkLogLevel ?? 'warn',
      resource: Object.fromEntries(Object.entries(t.resource).map(([k, v]) => [k, String(v)])),
    },
  };
}

const ANY_ADDRESS = new Set(['0.0.0.0', '::', '[::]']);

/** The agent's server and a prometheus exporter in use cannot share a port (one would fail to listen). */
function checkServerPort(service: ServiceConfig, exporters: AgentConfig['exporters'], problems: Problem[]): void {
  if (!service.server.enabled) return;
  const used = new Set(service.pipelines.flatMap((p) => p.exporters));
  for (const id of used) {
    const e = exporters[id];
    if (e?.type !== 'prometheus' || e.port !== service.server.port) continue;
    if (e.host === service.server.host || ANY_ADDRESS.has(e.host) || ANY_ADDRESS.has(service.server.host)) {
      problems.push({
        path: 'service.server.port',
        message: `${e.port} is also the port of exporter ${id} (${e.host}:${e.port}); give the server or the exporter another port`,
      });
    }
  }
}

/** Receivers of one type feeding one metrics pipeline share its tables: what shapes them must agree (ComponentDefinition.samePerPipeline). */
function checkSamePerPipeline(service: ServiceConfig, receivers: Readonly<Record<string, unknown>>, problems: Problem[]): void {
  for (const p of service.pipelines) {
    if (p.signal !== 'metrics') continue;
    const first = new Map<string, { id: string; rc: Record<string, unknown> }>();
    for (const id of p.receivers) {
      const rc = receivers[id] as Record<string, unknown> | undefined;
      const def = rc && Object.hasOwn(KINDS.receivers.types, rc.type as string) ? KINDS.receivers.types[rc.type as string] : undefined;
      if (!rc || !def?.samePerPipeline) continue;
      const seen = first.get(rc.type as string);
      if (!seen) {
        first.set(rc.type as string, { id, rc });
        continue;
      }
      for (const key of def.samePerPipeline) {
        if (isDeepStrictEqual(rc[key], seen.rc[key])) continue;
        const problem = {
          path: joinPath(joinPath('receivers', id), key),
          message:
            `differs from receivers.${seen.id}.${key}, and both feed pipeline "${p.id}": they share its metric tables (a histogram has one bucket layout); ` +
            'give them the same value, or put them in different metrics pipelines',
        };
        if (!problems.some((q) => q.path === problem.path && q.message === problem.message)) problems.push(problem);
      }
    }
  }
}

function pipelinesOf(section: unknown): Record<string, unknown> | undefined {
  if (!isMapping(section)) return isNothing(section) ? {} : undefined;
  const p = section.pipelines;
  if (isNothing(p)) return {};
  return isMapping(p) ? p : undefined;
}

const isNothing = (v: unknown): boolean => v === null || v === undefined;
