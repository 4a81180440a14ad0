# netwatch on every Nomad client: a system job running the agent next to an OpenTelemetry
# Collector sidecar that receives its OTLP on loopback and sends it onward.
#
#   nomad job run -var 'upstream=otel-gateway.example.com:4317' otel/nomad/netwatch.nomad.hcl
#
# Needs on each client: the docker driver with `allow_privileged = true` and `volumes { enabled = true }`
# in its plugin config (the agent loads eBPF programs, so it runs privileged with the host's pid and
# network namespaces), and the netwatch image (see Dockerfile) under `var.image`.
#
# The agent's nomad_autostart processor talks to Nomad through the Task API (the Unix socket Nomad
# serves in each task's secrets directory) with the task's workload identity: no address to find,
# no token to create. With ACLs on, attach the policy it needs to this task, once:
#
#   nomad acl policy apply -namespace default -job netwatch -group netwatch -task netwatch \
#     -description "netwatch nomad_autostart" netwatch-autostart otel/nomad/netwatch-autostart.policy.hcl
#
# The embedded agent.yaml and collector.yaml are checked by test/unit/packaging/nomad.test.ts:
# the collector config must equal otel/collector.yaml, the agent config must validate with the
# environment Nomad gives the task; nomad-policy.test.ts checks the policy against the rules and
# what the processor calls.

variable "image" {
  type        = string
  default     = "netwatch:0.1.0"
  description = "The netwatch image built from the repository's Dockerfile."
}

variable "collector_image" {
  type    = string
  default = "otel/opentelemetry-collector-contrib:0.114.0"
}

variable "upstream" {
  type        = string
  description = "host:port of the OTLP/gRPC endpoint the sidecar collector sends to."
}

variable "upstream_insecure" {
  type    = bool
  default = false
}

job "netwatch" {
  type        = "system"
  datacenters = ["*"]
  priority    = 90

  group "netwatch" {
    # Both tasks use the host's network: the agent reaches the collector on 127.0.0.1:4317 and
    # serves /readyz on 127.0.0.1:9465 (static: the host has one agent).
    network {
      mode = "host"
      port "api" {
        static       = 9465
      }
    }

    restart {
      attempts = 10
      interval = "10m"
      delay    = "15s"
      mode     = "delay"
    }

    task "otel-collector" {
      driver = "docker"

      # A sidecar that starts before the agent and runs as long as it does.
      lifecycle {
        hook    = "prestart"
        sidecar = true
      }

      config {
        image        = var.collector_image
        network_mode = "host"
        args         = ["--config=/local/collector.yaml"]
      }

      env {
        OTLP_UPSTREAM_ENDPOINT = var.upstream
        OTLP_UPSTREAM_INSECURE = var.upstream_insecure
      }

      # Same as otel/collector.yaml; $${ is HCL's escape for a literal ${ (the collector substitutes it).
      template {
        destination = "local/collector.yaml"
        data        = <<EOF
# OpenTelemetry Collector sidecar for netwatch: receives the agent's OTLP on loopback and sends it
# onward. The agent's default exporter (config/agent.yaml) is OTLP/gRPC to http://localhost:4317;
# OTLP/HTTP on 4318 is there for agents configured with the otlphttp exporter.
# Components are all in the collector's core and contrib distributions (health_check: contrib).
#   OTLP_UPSTREAM_ENDPOINT   where to send (host:port of your gateway collector or backend)
#   OTLP_UPSTREAM_INSECURE   true for plaintext (default false: TLS)
extensions:
  health_check:
    endpoint: 127.0.0.1:13133

receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:4317
      http:
        endpoint: 127.0.0.1:4318

processors:
  memory_limiter:
    check_interval: 1s
    limit_percentage: 80
    spike_limit_percentage: 20
  batch:
    send_batch_size: 8192
    timeout: 5s

exporters:
  otlp/upstream:
    endpoint: $${env:OTLP_UPSTREAM_ENDPOINT}
    tls:
      insecure: $${env:OTLP_UPSTREAM_INSECURE:-false}
    sending_queue:
      enabled: true
      queue_size: 5000
    retry_on_failure:
      enabled: true
      max_elapsed_time: 10m

service:
  extensions: [health_check]
  pipelines:
    metrics:
      receivers: [otlp]
      processors: [memory_limiter, batch]
      exporters: [otlp/upstream]
    logs:
      receivers: [otlp]
      processors: [memory_limiter, batch]
      exporters: [otlp/upstream]
EOF
      }

      resources {
        cpu    = 200
        memory = 256
      }
    }

    task "netwatch" {
      driver = "docker"

      config {
        image        = var.image
        privileged   = true
        network_mode = "host"
        pid_mode     = "host"
        # The kernel interfaces the agent needs, from the host (tracefs and bpffs are mounted by the agent when missing).
        mount {
          type     = "bind"
          source   = "/sys/fs/cgroup"
          target   = "/sys/fs/cgroup"
          readonly = true
        }
        mount {
          type     = "bind"
          source   = "/sys/kernel/btf"
          target   = "/sys/kernel/btf"
          readonly = true
        }
        mount {
          type     = "bind"
          source   = "/sys/kernel/tracing"
          target   = "/sys/kernel/tracing"
          readonly = false
        }
        mount {
          type     = "bind"
          source   = "/sys/fs/bpf"
          target   = "/sys/fs/bpf"
          readonly = false
        }
        # The rendered agent.yaml replaces the image's default.
        mount {
          type     = "bind"
          source   = "local/agent.yaml"
          target   = "/etc/netwatch/agent.yaml"
          readonly = true
        }
      }

      # SIGTERM: last export, detach, exit within service.shutdown_timeout (10s); then Nomad kills.
      kill_signal  = "SIGTERM"
      kill_timeout = "20s"

      # The workload identity's token in secrets/nomad_token (agent.yaml's token_file), re-read by
      # the agent when Nomad answers 403. Not in the environment (env = true): the agent reads other
      # processes' environments, and a file follows a renewed token. Nomad serves the Task API at
      # secrets/api.sock in every task; it always asks for a token, ACLs on or off.
      identity {
        file = true
      }

      # The node this agent publishes its activity as (nomad_autostart's cluster.node): Nomad sets no
      # variable with the node's ID in a task, so the job does.
      env {
        NOMAD_NODE_ID = "${node.unique.id}"
      }

      template {
        destination = "local/agent.yaml"
        # A changed file is reloaded in place (probes stay attached, counters cumulative).
        change_mode   = "signal"
        change_signal = "SIGHUP"
        data          = <<EOF
receivers:
  connections:
    seed_existing: true
processors:
  nomad_autostart:
    # The Task API (what Nomad puts in NOMAD_UNIX_ADDR for tasks with identity env = true).
    address: unix://$${env:NOMAD_SECRETS_DIR}/api.sock
    # The workload identity's token (identity file = true); needs otel/nomad/netwatch-autostart.policy.hcl.
    token_file: $${env:NOMAD_SECRETS_DIR}/nomad_token
    rules:
      # An example: replace it with yours. A process on any node connecting to port 5432 wakes
      # group "db" of job "postgres" (say, a Postgres with a static port whose group may be at 0),
      # and 30 minutes without such connections put it back to 0. Then keep the policy in step:
      # one namespace block per namespace here, "submit-job" added for rules with start_stopped.
      - name: postgres
        match: { connect_to: ["*:5432"] }
        job: postgres
        group: db
        namespace: default
        idle_after: 30m
exporters:
  otlp:
    endpoint: http://127.0.0.1:4317   # the otel-collector sidecar (plaintext on loopback)
service:
  server:
    enabled: true
    host: 127.0.0.1
    port: 9465
  shutdown_timeout: 10s
  pipelines:
    metrics:
      receivers: [connections]
      processors: [nomad_autostart]
      exporters: [otlp]
    logs:
      receivers: [connections]
      processors: [nomad_autostart]
      exporters: [otlp]
  telemetry:
    metrics:
      export_interval: 30s
EOF
      }

      service {
        name     = "netwatch"
        provider = "nomad"
        port     = "api"
        address  = "127.0.0.1"
        check {
          name     = "ready"
          type     = "http"
          path     = "/readyz"
          interval = "15s"
          timeout  = "3s"
        }
      }

      resources {
        cpu    = 300
        memory = 256
      }
    }
  }
}
