#!/bin/sh
# Installs the Debian/Ubuntu packages netwatch needs, only those missing. Idempotent; needs root.
#   sh bpf/setup-host.sh         build and run the agent
#   sh bpf/setup-host.sh test    also what the tests use
#   sh bpf/setup-host.sh bench   also what the benchmarks compare the agent with
set -eu
profile=${1:-run}
# Build (clang, llvm, libbpf-dev, bpftool, make) and run (libbpf1, iproute2).
pkgs="clang llvm libbpf-dev libbpf1 bpftool iproute2 make"
case "$profile" in
  run) ;;
  # openssl/curl: TLS clients and certificates; nftables: packet drops; prometheus: a real scraper;
  # tmux: the live view; debootstrap + buildah: the container image (no container engine runs there);
  # chromium: the /docs page is loaded and driven in a headless browser.
  test) pkgs="$pkgs openssl curl nftables prometheus tmux debootstrap buildah chromium" ;;
  bench) pkgs="$pkgs bpftrace libbpf-tools" ;;
  *) echo "netwatch setup: unknown profile $profile (run, test or bench)" >&2; exit 2 ;;
esac
need=""
pkg_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
for p in $pkgs; do
  pkg_installed "$p" || need="$need $p"
done
if [ -n "$need" ]; then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "netwatch setup: missing packages:$need — install them with your package manager" >&2
    exit 1
  fi
  echo "netwatch setup: installing$need" >&2
  export DEBIAN_FRONTEND=noninteractive
  # Packages such as prometheus start a daemon from their postinst; the tests start their own on
  # loopback, so none is started here (Debian's policy-rc.d: 101 = action not allowed).
  guard=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && guard=1
  fi
  trap 'if [ -n "$guard" ]; then rm -f /usr/sbin/policy-rc.d; fi' EXIT
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends $need >/dev/null
fi
if [ "$profile" = bench ]; then
  for tool in bpftrace tcpstates; do
    command -v "$tool" >/dev/null 2>&1 || { echo "netwatch setup: $tool is not on PATH after installing" >&2; exit 1; }
  done
fi
[ -e /sys/kernel/btf/vmlinux ] || { echo "netwatch setup: this kernel has no BTF (/sys/kernel/btf/vmlinux); CO-RE probes cannot load" >&2; exit 1; }
