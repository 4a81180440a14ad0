// Sorts a Nomad HTTP error answer into a NomadErrorKind. The texts matched here are
// hashicorp/nomad's:
// - Job.Scale's 400s (nomad/job_endpoint.go): "job scaling blocked due to active deployment",
//   "group count was less than scaling policy minimum: …", "group count was greater than scaling
//   policy maximum: …", `task group "<g>" specified for scaling does not exist in job`.
// - The check-and-set: "Enforcing job modify index <n>: …" (structs.RegisterEnforceIndexErrPrefix),
//   a plain error, so 500 — someone else wrote the job first, not a server failure.
// - Validation: Job.Register's admission errors are a go-multierror list ("1 error occurred:…"),
//   and job_max_count ("total count was greater than configured job_max_count") is a plain error
//   from Job.Scale; both answer 500, yet asking again gives the same answer.
// - 403 "Job registration, dispatch, and scale are disabled by the scheduler configuration"
//   (structs.ErrJobRegistrationDisabled): an operator switch, not the token's policy; otherwise 403
//   carries "Permission denied" / "ACL token not found" (structs/errors.go).
// - 409: a Variables check-and-set or lock operation lost (command/agent/variable_endpoint.go
//   answers 409 with the variable as it is now; nomad/variables_endpoint.go's lock errors
//   "variable doesn't hold a lock" and "attempting to modify locked variable" are 409 too): the
//   same news as a job's "Enforcing job modify index", someone else wrote first.
import type { NomadErrorKind } from '../../../../errors';

const ENFORCE_INDEX = 'Enforcing job modify index';
const REGISTRATION_DISABLED = 'disabled by the scheduler configuration';
const VALIDATION = /^\d+ errors? occurred:|greater than configured job_max_count/;

export function classifyStatus(status: number, body: string): NomadErrorKind {
  if (status === 400 && body.includes('job scaling blocked due to active deployment')) return 'active_deployment';
  if (status === 400 && /group count was (less|greater) than scaling policy (minimum|maximum)/.test(body)) return 'policy_violation';
  if (status === 400 && body.includes('specified for scaling does not exist in job')) return 'group_not_found';
  if (status === 500 && body.includes(ENFORCE_INDEX)) return 'conflict';
  if (status === 409) return 'conflict';
  if (status === 500 && VALIDATION.test(body)) return 'validation';
  if (status === 403 && body.includes(REGISTRATION_DISABLED)) return 'registration_disabled';
  if (status === 401 || status === 403) return 'forbidden';
  if (status === 404) return 'not_found';
  if (status === 429 || status >= 500) return 'server';
  if (status >= 400) return 'bad_request';
  return 'server';
}

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT', 'ETIMEDOUT']);
const TLS_CODE = /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|ERR_OSSL_|HOSTNAME_MISMATCH)/;

/** What undici and node put on a failed request's error (and its causes); any of it may be missing. */
interface Failure {
  code?: unknown;
  name?: unknown;
  cause?: unknown;
}

/** Kind for a failure without an HTTP answer, from the error's code (or its cause's). */
export function classifyFailure(err: unknown, timedOut: boolean): NomadErrorKind {
  if (timedOut) return 'timeout';
  const codes: string[] = [];
  for (let e: unknown = err, depth = 0; e && depth < 4; e = (e as Failure).cause, depth++) {
    const { code, name } = e as Failure;
    if (typeof code === 'string') codes.push(code);
    if (name === 'TimeoutError') return 'timeout';
  }
  if (codes.some((c) => TIMEOUT_CODES.has(c))) return 'timeout';
  if (codes.some((c) => TLS_CODE.test(c))) return 'tls';
  return 'connection';
}
