// Every error the agent raises is one of these classes, each with a stable `code`
// (modelled on undici's lib/core/errors.js). The codes are documented in README.md, and
// test/unit/errors.test.ts fails when that table and these classes differ.

/** The base of every netwatch error; abstract, so that every error raised has a documented code. */
export abstract class NetwatchError extends Error {
  abstract readonly code: string;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A libbpf or bpf() call failed. errno is read immediately after the failing call. */
export class KernelError extends NetwatchError {
  override readonly code: string = 'NETWATCH_ERR_KERNEL';
  constructor(
    message: string,
    readonly errno: number,
    readonly op: string,
    readonly program?: string,
    readonly verifierLog?: string,
  ) {
    super(message);
  }
}

/** A BPF program was rejected by the verifier; `verifierLog` holds the log. */
export class VerifierError extends KernelError {
  override readonly code = 'NETWATCH_ERR_VERIFIER';
}

/** Something the kernel must provide is absent (BTF, tracefs, bpffs, cgroup v2, a tracepoint). */
export class KernelFeatureError extends NetwatchError {
  override readonly code = 'NETWATCH_ERR_KERNEL_FEATURE';
  constructor(
    message: string,
    readonly feature: string,
  ) {
    super(message);
  }
}

/** A network interface named in the configuration does not exist, or is of a kind a TC probe cannot parse. */
export class InterfaceError extends NetwatchError {
  override readonly code = 'NETWATCH_ERR_INTERFACE';
  constructor(
    message: string,
    readonly interfaceName: string,
  ) {
    super(message);
  }
}

/** agent.yaml (or a CLI flag) is invalid; `problems` lists every error, each naming its key path. */
export class ConfigError extends NetwatchError {
  override readonly code = 'NETWATCH_ERR_CONFIG';
  constructor(
    readonly problems: readonly string[],
    readonly file?: string,
  ) {
    super(`${file ? `${file}: ` : ''}invalid configuration:\n  - ${problems.join('\n  - ')}`);
  }
}

/**
 * An export was not sent because the previous one to the same exporter has not answered (a hung
 * collector): seen as the exporter's last error in /health; the data waits for the next export.
 */
export class ExportError extends NetwatchError {
  override readonly code = 'NETWATCH_ERR_EXPORT';
}

/** The agent's own HTTP server (health, query API) could not listen, e.g. its port is taken. */
export class ServerError extends NetwatchError {
  override readonly code = 'NETWATCH_ERR_SERVER';
}

/** A reload could not start some receivers (the others run); `errors` holds each one's error. */
export class ReceiverStartError extends NetwatchError {
  override readonly code = 'NETWATCH_ERR_RECEIVER_START';
  constructor(
    message: string,
    readonly errors: readonly Error[],
  ) {
    super(message);
  }
}

/** A reload arrived while the agent was shutting down; it was not applied. */
export class AgentStoppingError extends NetwatchError {
  override readonly code = 'NETWATCH_ERR_AGENT_STOPPING';
}

/**
 * A bug in netwatch: something validation or the type system guarantees did not hold (an
 * unknown member of a closed union, a configuration the validator should have refused, a
 * layout constant the code disagrees with). Worth a report with the message and stack.
 */
export class InternalError extends NetwatchError {
  override readonly code = 'NETWATCH_ERR_INTERNAL';
}

/**
 * What went wrong with a Nomad API call, so callers can decide without parsing texts:
 * active_deployment (400, retry after the deployment), policy_violation (400, count outside the
 * group's scaling min/max), forbidden (401/403), not_found (404), bad_request (other 4xx),
 * conflict (a check-and-set lost: a job's 500 "Enforcing job modify index", a Variables 409),
 * server (5xx, 429), timeout (no answer in time), connection (refused, reset, closed), tls
 * (handshake or certificate failure).
 */
export type NomadErrorKind =
  | 'active_deployment'
  | 'policy_violation'
  | 'forbidden'
  | 'not_found'
  | 'bad_request'
  | 'conflict'
  | 'validation'
  | 'registration_disabled'
  | 'group_not_found'
  | 'server'
  | 'timeout'
  | 'connection'
  | 'tls';

/**
 * A Nomad API call failed; `status` is the HTTP status when there was a response, `body` its
 * text, `kind` the classification. Messages and bodies never carry the ACL token or password.
 */
export class NomadError extends NetwatchError {
  override readonly code = 'NETWATCH_ERR_NOMAD';
  readonly kind: NomadErrorKind;
  /** The answer's X-Nomad-Index, when it had one (a 404 of a read says as of which index the thing was missing). */
  readonly index?: number;
  constructor(
    message: string,
    readonly status?: number,
    readonly body?: string,
    kind?: NomadErrorKind,
    options?: { cause?: unknown; index?: number },
  ) {
    super(message, options);
    this.kind = kind ?? (status === undefined ? 'connection' : 'server');
    if (options?.index !== undefined) this.index = options.index;
  }

  /** Worth trying again later: the server or the network failed, not the request. */
  get retryable(): boolean {
    return (
      this.kind === 'server' ||
      this.kind === 'timeout' ||
      this.kind === 'connection' ||
      this.kind === 'active_deployment' ||
      this.kind === 'registration_disabled'
    );
  }
}
