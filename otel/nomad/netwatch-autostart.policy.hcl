# The Nomad ACL policy of netwatch's nomad_autostart processor for the rules of the agent.yaml in
# netwatch.nomad.hcl, attached to the agent task's workload identity (no token to create or hand out):
#
#   nomad acl policy apply -namespace default -job netwatch -group netwatch -task netwatch \
#     -description "netwatch nomad_autostart" netwatch-autostart otel/nomad/netwatch-autostart.policy.hcl
#
# One namespace block per namespace the rules name, with exactly what the processor calls
# (the capabilities each endpoint checks: hashicorp/nomad nomad/job_endpoint.go):
#   read-job   GET /v1/job/:job/scale (read-job-scaling would do for it) and GET /v1/job/:job/deployment,
#              the deployment a scale request waits for
#   scale-job  POST /v1/job/:job/scale: wakes, sleeps, and the start of a stopped job in the scaling history
# A rule with start_stopped: true also reads the job and its versions and re-registers it
# (PUT /v1/jobs): add "submit-job" to its namespace's block ("register-job" alone from Nomad 2.0).
# Nothing else: no list-jobs, no node, agent or Variables access.
# test/unit/packaging/nomad.test.ts checks this file against the rules and the processor's code.
namespace "default" {
  capabilities = ["read-job", "scale-job"]
}
