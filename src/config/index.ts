// The configuration module's public surface.
export { loadConfigFile, parseConfig } from './load';
export { redactConfig, REDACTED } from './redact';
export { summarizeConfig } from './summary';
export { validateNames, type NameKind, type NameProblem } from './names';
export { parseDuration, formatDuration } from './duration';
export { RECEIVER_TYPES, PROCESSOR_TYPES, EXPORTER_TYPES } from './registry';
export type { Env } from './env-substitution';
export type * from './types';
