// A Nomad call's failure tagged with the call it came from (for the advice), and how long Nomad
// keeps a deployment alive (for the deployment wait).
import { NomadError } from '../../../errors';
import type { NomadCall } from './advice';
import type { NomadDeployment } from './client';
import { now } from './clock';

/** Time the deployment watcher may take past RequireProgressBy to fail the deployment. */
const PROGRESS_GRACE_MS = 30_000;

/** performance.now() by which Nomad fails `d` unless it progresses: the latest RequireProgressBy of its groups, plus grace. */
export function progressDeadline(d: NomadDeployment): number {
  let latest = -Infinity;
  for (const g of Object.values(d.TaskGroups ?? {})) {
    const by = g.RequireProgressBy === undefined ? NaN : Date.parse(g.RequireProgressBy);
    if (Number.isFinite(by) && by > 0) latest = Math.max(latest, by);
  }
  return latest === -Infinity ? -Infinity : now() + (latest - Date.now()) + PROGRESS_GRACE_MS;
}

/** Runs a Nomad call; its failure is tagged with the call, so a 403 is reported with what that call needs. */
export async function tagged<T>(what: NomadCall, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof NomadError) throw new CallError(what, e);
    throw e;
  }
}

export function nomadErrorOf(e: unknown): NomadError | undefined {
  if (e instanceof CallError) return e.error;
  return e instanceof NomadError ? e : undefined;
}

/** A NomadError and the call that got it. */
export class CallError extends Error {
  constructor(
    readonly call: NomadCall,
    readonly error: NomadError,
  ) {
    super(error.message, { cause: error });
  }
}
