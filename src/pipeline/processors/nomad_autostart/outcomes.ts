// How wakes and sleeps end (the values of netwatch.nomad.autostart.outcome).
import type { NOMAD_AUTOSTART_OUTCOME_VALUES } from '../../../catalogue/generated';

export type Outcome = (typeof NOMAD_AUTOSTART_OUTCOME_VALUES)[number];

/** Outcomes logged at WARN: something needs a person (or Nomad) to act. */
export const FAILED_OUTCOMES: ReadonlySet<Outcome> = new Set(['job_not_found', 'group_not_found', 'policy_violation', 'forbidden', 'bad_request', 'failed']);
