# The Nomad ACL policy of netwatch's nomad_autostart processor for the rules of the agent.yaml in
# netwatch.nomad.hcl, attached to the agent task's workload identity (no token to create or hand out):
#
#   nomad acl policy apply -namespace default -job netwatch -group netwatch -task netwatch \
#     -description "netwatch nomad_autostart" netwatch-autostart otel/nomad/netwatch-autostart.policy.hcl
#
# One namespace block per namespace the rules name, with exactly what the processor calls
# (the capabilities each endpoint checks: hashicorp/nomad nomad/job_endpoint.go, nomad/event_endpoint.go):
#   read-job   GET /v1/event/stream (its Job and Deployment topics), GET /v1/job/:job (the job read
#              after each stream connection and after a conflict), GET /v1/job/:job/scale
#              (read-job-scaling would do for it alone) and GET /v1/job/:job/deployment, the
#              deployment a scale request waits for
#   scale-job  POST /v1/job/:job/scale: wakes, sleeps, and the start of a stopped job in the scaling history
# A rule with start_stopped: true also reads the job's versions and re-registers it
# (PUT /v1/jobs): add "submit-job" to its namespace's block ("register-job" alone from Nomad 2.0).
#
# Sleep is decided for the cluster (the processor's cluster section, on by default): every agent
# publishes its activity in Nomad Variables and takes a Variables lock while it checks that every
# node is idle. That needs, in the processor's own namespace (its `namespace`, NOMAD_NAMESPACE: the
# namespace netwatch runs in), a variables block over cluster.variables_prefix and cluster.lock_path
# (both under nomad/jobs/netwatch by default; nomad/variables_endpoint.go):
#   read   GET /v1/var/:path, each node's activity (and GET /v1/vars?prefix=, which lists only what
#          the token may list: "read" grants "list" too, acl/policy.go expandVariablesCapabilities)
#   write  PUT /v1/var/:path?cas=N, this node's activity; ?lock-acquire, ?lock-renew, ?lock-release
#          on the lock of the group being put to sleep
# A workload identity reads nomad/jobs/netwatch itself without a policy, but nothing below it and
# never writes (acl/acl.go matchingVariablesCapabilitySet), so the block is needed. No "destroy":
# nothing is deleted. Without it (or with cluster.enabled: false) each agent judges idleness from its
# own traffic and only the agent that woke a group puts it back to sleep.
# Nothing else: no list-jobs, no node or operator access.
# test/unit/packaging/nomad-policy.test.ts checks this file against the rules and the processor's code.
namespace "default" {
  capabilities = ["read-job", "scale-job"]

  variables {
    path "nomad/jobs/netwatch/*" {
      capabilities = ["read", "write"]
    }
  }
}

# GET /v1/agent/self (command/agent/agent_endpoint.go: agent:read) tells the servers' Nomad version;
# from 1.8.2 a wake is then one check-and-set scale request from the event stream's warm state.
# Granted so that works without keeping server_version in step with the cluster by hand. Without it
# the processor falls back to server_version in agent.yaml, and with neither reads the scale status
# before every write. "read" only: the agent never changes an agent. agent:read also lets the token
# read the agents' configuration (secrets redacted), logs (/v1/agent/monitor) and host data; where
# that is too much, drop this block and set server_version.
agent {
  policy = "read"
}
