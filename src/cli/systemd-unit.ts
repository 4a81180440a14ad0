// The systemd unit `netwatch install` writes (and packaging/systemd/netwatch.service shows for the
// default layout). One template, so the shipped file and an installed one cannot differ.

export interface UnitOptions {
  /** Absolute path of node. */
  node: string;
  /** Absolute path of dist/src/cli/main.js. */
  main: string;
  /** Absolute path of the agent.yaml to run. */
  config: string;
  /** Extra `netwatch run` flags, e.g. ['--watch']. */
  flags: readonly string[];
  /** The optional environment file (OTEL_*, NETWATCH_API_TOKEN); a missing file is fine. */
  envFile: string;
}

// What the agent needs, and why (README, "Permissions", measured with setpriv on kernel 6.18):
// BPF and PERFMON to load programs, attach tracepoints and map ring buffers; NET_ADMIN for the
// cgroup socket hooks and TC; SYS_PTRACE and DAC_READ_SEARCH for /proc/<pid>/exe, cmdline, fd and
// environ of other users' processes (attribution, seeding, Nomad task env); SYS_ADMIN only to
// mount tracefs/bpffs where the host has not. Memlock: LimitMEMLOCK below (kernels before 5.11).
export const CAPABILITIES = ['CAP_BPF', 'CAP_PERFMON', 'CAP_NET_ADMIN', 'CAP_SYS_PTRACE', 'CAP_DAC_READ_SEARCH', 'CAP_SYS_ADMIN'];

const quote = (s: string): string => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `"${s.replace(/(["\\])/g, '\\$1')}"`);

export function renderUnit(o: UnitOptions): string {
  const exec = [o.node, o.main, 'run', '-c', o.config, ...o.flags].map(quote).join(' ');
  return `# netwatch: eBPF network agent (written by \`netwatch install\`).
[Unit]
Description=netwatch eBPF network agent
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
ExecStart=${exec}
# SIGHUP reloads agent.yaml (an invalid file is rejected and the running configuration stays).
ExecReload=/bin/kill -HUP $MAINPID
EnvironmentFile=-${o.envFile}
# SIGTERM: last export, detach, exit 0 within service.shutdown_timeout (default 10s).
KillSignal=SIGTERM
TimeoutStopSec=20s
Restart=on-failure
RestartSec=5s
CapabilityBoundingSet=${CAPABILITIES.join(' ')}
AmbientCapabilities=${CAPABILITIES.join(' ')}
NoNewPrivileges=yes
LimitMEMLOCK=infinity
LimitNOFILE=65536
PrivateTmp=yes
ProtectHome=read-only

[Install]
WantedBy=multi-user.target
`;
}

/** packaging/systemd/netwatch.service: the unit as installed from /opt/netwatch with node in /usr/bin. */
export const SHIPPED_UNIT_PATH = 'packaging/systemd/netwatch.service';
export function shippedUnit(): string {
  return renderUnit({
    node: '/usr/bin/node',
    main: '/opt/netwatch/dist/src/cli/main.js',
    config: '/etc/netwatch/agent.yaml',
    flags: [],
    envFile: '/etc/netwatch/netwatch.env',
  });
}
