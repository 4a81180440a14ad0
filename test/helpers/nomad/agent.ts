// The agent's own endpoint: GET /v1/agent/self.
// Follows hashicorp/nomad command/agent/agent_endpoint.go AgentSelfRequest: any method but GET is
// 405 "Invalid method"; the token must allow agent:read (acl/acl.go AllowAgentRead: ACLs off, a
// management token, or an `agent` policy of read or write), else 403 "Permission denied"
// (structs.ErrPermissionDenied). The answer is agentSelf {config, member, stats}: `config` is the
// agent's configuration, whose `Version` is version.VersionInfo (Version, VersionPrerelease,
// VersionMetadata, Revision, BuildDate); `member` is the server's serf member when the agent is a
// server — its Tags.build is nomad/server.go setupSerf's `conf.Tags["build"] = s.config.Build`,
// the VersionNumber() ("2.0.5", "1.9.3+ent", "2.0.6-dev") — and a zero Member (Tags null,
// Status "none") when the agent is only a client (the `omitempty` on a struct field omits
// nothing in encoding/json).
import type * as http from 'node:http';
import { Answer, sendJson, type RequestContext } from './http';
import type { Cluster } from './state';

/** The agent whose HTTP API the double is: a server (the default, like `nomad agent -dev`) or a client. */
export interface DoubleAgent {
  server: boolean;
  /** The agent's own Nomad version ("2.0.5", optionally with -prerelease or +metadata); default: the servers'. */
  version?: string;
}

/** version.VersionInfo as the agent's config carries it. */
function versionInfo(full: string): Record<string, string> {
  const plus = full.indexOf('+');
  const meta = plus >= 0 ? full.slice(plus + 1) : '';
  const core = plus >= 0 ? full.slice(0, plus) : full;
  const dash = core.indexOf('-');
  return {
    BuildDate: '2026-08-12T00:00:00Z',
    Revision: 'double',
    Version: dash >= 0 ? core.slice(0, dash) : core,
    VersionPrerelease: dash >= 0 ? core.slice(dash + 1) : '',
    VersionMetadata: meta,
  };
}

/** GET /v1/agent/self. */
export function agentSelf(c: Cluster, agent: DoubleAgent, res: http.ServerResponse, ctx: RequestContext, method: string): void {
  if (method !== 'GET') throw new Answer(405, 'Invalid method');
  c.acl.authorizeAgentRead(ctx.token);
  const version = agent.version ?? c.state.config.version;
  const member = agent.server
    ? {
        Name: `double.${c.state.region}`,
        Addr: '127.0.0.1',
        Port: 4648,
        Tags: { role: 'nomad', region: c.state.region, dc: 'dc1', build: version, revision: 'double', vsn: '1', raft_vsn: '3' },
        Status: 'alive',
        ProtocolMin: 1,
        ProtocolMax: 5,
        ProtocolCur: 2,
        DelegateMin: 2,
        DelegateMax: 5,
        DelegateCur: 4,
      }
    : {
        Name: '',
        Addr: null,
        Port: 0,
        Tags: null,
        Status: 'none',
        ProtocolMin: 0,
        ProtocolMax: 0,
        ProtocolCur: 0,
        DelegateMin: 0,
        DelegateMax: 0,
        DelegateCur: 0,
      };
  sendJson(
    res,
    200,
    {
      config: {
        Region: c.state.region,
        Datacenter: 'dc1',
        Version: versionInfo(version),
        Server: { Enabled: agent.server },
        Client: { Enabled: !agent.server },
      },
      member,
      stats: { nomad: { server: String(agent.server) } },
    },
    {},
  );
}
