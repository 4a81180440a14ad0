// What a component type contributes to the loader: its convict-shaped schema and how settings become config.
import type { OtelEnv } from './otel-env';
import type { Problem } from './problems';
import type { SchemaSpec } from './section';

export type ComponentKind = 'receivers' | 'processors' | 'exporters';

export interface BuildContext {
  /** `otlp/backup` */
  id: string;
  /** `exporters.otlp/backup` — prefix for problems. */
  path: string;
  env: OtelEnv;
  /** Relative paths of the settings the file gave (the rest are defaults). */
  provided: ReadonlySet<string>;
  /** Settings that failed their format (now holding defaults): skip cross-field rules involving them. */
  invalid: ReadonlySet<string>;
  /** Add problems found after the schema walk (cross-field rules, nested entries). */
  problems: Problem[];
}

export interface ComponentDefinition<C extends { type: string; id: string }, S = unknown> {
  readonly type: C['type'];
  /** One line for `netwatch validate` and docs. */
  readonly summary: string;
  /** The type's current name when this one is an old name kept for compatibility (`validate` says so). */
  readonly deprecatedAliasOf?: string;
  schema(env: OtelEnv): SchemaSpec<S>;
  /**
   * Settings that every component of this type feeding one metrics pipeline must give alike: they
   * shape metric tables the pipeline shares among them (a histogram has one bucket layout).
   */
  readonly samePerPipeline?: readonly string[];
  /** Settings that are lists of mappings, with the schema each item is checked against (for the reference). */
  readonly lists?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  /** Called even when some settings failed the schema (they then hold defaults, see `invalid`), so nested problems show too. */
  build(settings: S, ctx: BuildContext): C;
}

/** Identity, for inference: `export const debug = defineComponent<DebugExporterConfig, Settings>({...})`. */
export function defineComponent<C extends { type: string; id: string }, S>(def: ComponentDefinition<C, S>): ComponentDefinition<C, S> {
  return def;
}
