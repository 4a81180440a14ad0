// Checks on the owner of an event (its process, container and Nomad job), compiled once; shared by
// the filter processor's rules and nomad_autostart's client conditions, so both mean the same.
import type { Enrichment } from '../../../enrich/types';
import { compileNames } from './glob';

/** What an owner check reads: the enrichment of the event's owner, and the kernel's `exe` on events that carry one. */
export type Owned = Enrichment & { readonly exe?: string };

export interface OwnerConditions {
  /** Executable names, exact or `*` globs. */
  readonly process: readonly string[];
  readonly container_id: readonly string[];
  readonly container_runtime: readonly string[];
  readonly nomad_job: readonly string[];
}

/**
 * Executable name: the process info's, else the name the kernel read from the owner's mm->exe_file
 * (connections records carry it as `exe`); '' when neither could tell. A thread's comm is not one.
 */
export const processName = (ev: Owned): string => ev.process?.executableName || ev.exe || '';

/** One check per condition given (an empty list adds none); each must hold. */
export function ownerChecks<E extends Owned>(c: OwnerConditions): ((ev: E) => boolean)[] {
  const checks: ((ev: E) => boolean)[] = [];
  if (c.process.length) {
    const m = compileNames(c.process);
    // An owner whose executable is unknown matches no name, not even `*` (as container_id needs a container).
    checks.push((ev) => {
      const name = processName(ev);
      return name !== '' && m(name);
    });
  }
  if (c.container_id.length) {
    const m = compileNames(c.container_id);
    checks.push((ev) => ev.container?.id !== undefined && m(ev.container.id));
  }
  if (c.container_runtime.length) {
    const runtimes = new Set<string>(c.container_runtime);
    checks.push((ev) => ev.container?.runtime !== undefined && runtimes.has(ev.container.runtime));
  }
  if (c.nomad_job.length) {
    const m = compileNames(c.nomad_job);
    checks.push((ev) => ev.nomad?.job !== undefined && m(ev.nomad.job));
  }
  return checks;
}
