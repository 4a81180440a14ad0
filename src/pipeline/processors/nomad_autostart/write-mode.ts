// How a wake writes, by the Nomad servers' version: from 1.8.2 (the 1.8.2 / 1.9.0 changelog,
// hashicorp/nomad#23457: nomad/job_endpoint.go Job.Scale compares ScalingRequest.JobModifyIndex
// with the job's and refuses a stale one with "Enforcing job modify index …") one scale request
// with that check-and-set, decided from warm state; older servers ignore the field, so a wake
// reads the scale status before it writes, as it always did.
//
// The version comes from GET /v1/agent/self (needs agent:read): the serf member's Tags.build when
// the agent the client talks to is a server (nomad/server.go setupSerf), else config.Version, the
// agent's own version — a client's, which Nomad's upgrade order (servers before clients) makes no
// newer than its servers'. When the token cannot read it, `server_version` says it; when neither
// does, read-then-write, said once at info. Between 1.8.2 and 2.0.1 the check is made against the
// RPC's snapshot only (2.0.1 also checks inside the state store's write transaction,
// hashicorp/nomad#27832), so two writers racing within one Raft apply may both pass — no worse
// than read-then-write.
import { formatNomadVersion, parseNomadVersion, versionAtLeast, type NomadVersion } from '../../../config/nomad-version';
import { agentSelfRefused, versionUnknown } from './advice';
import { Backoff } from './backoff';
import { nomadErrorOf } from './calls';
import type { AgentSelf } from './client';
import type { FlowContext } from './context';

/** Servers from this version check ScalingRequest.JobModifyIndex. */
export const CHECK_AND_SET_SINCE: NomadVersion = { major: 1, minor: 8, patch: 2, prerelease: '' };

export type WriteMode =
  /** One scale request with the job's JobModifyIndex, from warm state. */
  | { readonly kind: 'check-and-set'; readonly version: string; readonly from: 'agent' | 'setting' }
  /** Read the scale status, then write without a token. */
  | { readonly kind: 'read-then-write'; readonly why: 'older' | 'unknown' | 'discovering'; readonly version?: string };

/** The version /v1/agent/self reports for the servers, or undefined when it names none that parses. */
export function versionOfAgentSelf(self: AgentSelf): NomadVersion | undefined {
  const build = self.member?.Tags?.build;
  if (typeof build === 'string' && build !== '') return parseNomadVersion(build);
  const v = self.config?.Version;
  if (!v?.Version) return undefined;
  return parseNomadVersion(v.VersionPrerelease ? `${v.Version}-${v.VersionPrerelease}` : v.Version);
}

function modeOf(v: NomadVersion, from: 'agent' | 'setting'): WriteMode {
  const version = formatNomadVersion(v);
  return versionAtLeast(v, CHECK_AND_SET_SINCE) ? { kind: 'check-and-set', version, from } : { kind: 'read-then-write', why: 'older', version };
}

export class ServerVersion {
  private current: WriteMode = { kind: 'read-then-write', why: 'discovering' };

  constructor(
    private readonly ctx: FlowContext,
    /** server_version ('' when unset). */
    private readonly setting: string,
  ) {}

  get mode(): WriteMode {
    return this.current;
  }

  /**
   * Asks /v1/agent/self until it answers, or refuses (then the setting decides). Meanwhile the
   * setting's mode holds, or read-then-write. Resolves with the mode it settled on.
   */
  async discover(): Promise<WriteMode> {
    const ctx = this.ctx;
    const fromSetting = this.fromSetting();
    if (fromSetting) this.current = fromSetting;
    const backoff = new Backoff(ctx.cfg.retry.initial_ms, ctx.cfg.retry.max_ms);
    while (!ctx.stopped) {
      try {
        const v = versionOfAgentSelf(await ctx.call('agent read', () => ctx.client.agentSelf()));
        if (v) return this.settle(modeOf(v, 'agent'));
        return this.settle(fromSetting ?? { kind: 'read-then-write', why: 'unknown' }, 'it names no version');
      } catch (e) {
        const err = nomadErrorOf(e);
        if (ctx.stopped) break;
        if (err?.retryable) {
          await ctx.delay(backoff.next());
          continue;
        }
        const why = err?.kind === 'forbidden' ? agentSelfRefused() : `it answered ${err?.status ?? err?.kind ?? 'an error'}`;
        return this.settle(fromSetting ?? { kind: 'read-then-write', why: 'unknown' }, why);
      }
    }
    return this.current;
  }

  private fromSetting(): WriteMode | undefined {
    const v = this.setting === '' ? undefined : parseNomadVersion(this.setting);
    return v ? modeOf(v, 'setting') : undefined;
  }

  /** Settles on `mode`; says so once when it is not one write per wake. */
  private settle(mode: WriteMode, agentSelfProblem?: string): WriteMode {
    this.current = mode;
    const log = this.ctx.log;
    if (mode.kind === 'check-and-set') {
      log.debug(
        `Nomad ${mode.version} (from ${mode.from === 'agent' ? '/v1/agent/self' : 'server_version'}): a wake is one scale request with a check-and-set`,
      );
    } else if (mode.why === 'older') {
      log.info(
        `Nomad ${mode.version} has no check-and-set on scale requests (from 1.8.2): every wake reads the group's scale status before it writes, and a count someone raises in between can be set back`,
      );
    } else {
      log.info(versionUnknown(agentSelfProblem ?? 'no answer'));
    }
    return mode;
  }
}
