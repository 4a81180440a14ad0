// The Nomad HTTP client used by the nomad_autostart processor.
export { conflictingVariable, NomadClient, type CallOptions, type LockOptions, type RegisterOptions, type ScaleOptions, type VariableOptions } from './client';
export {
  resolveNomadSettings,
  DEFAULT_NOMAD_ADDRESS,
  DEFAULT_NOMAD_TIMEOUT_MS,
  type NomadSettings,
  type NomadSettingsOverrides,
  type NomadTlsSettings,
} from './settings';
export { classifyStatus } from './classify';
export type { NomadStreamResponse } from './transport';
export type * from './types';
export { ACTIVE_DEPLOYMENT_STATUSES } from './types';
