#!/bin/sh
# Installs the system packages netwatch needs to build its BPF objects, run, and run its tests,
# on Debian/Ubuntu, only when something is missing. Idempotent; needs root.
set -eu
need=""
have() { command -v "$1" >/dev/null 2>&1; }
pkg_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
for p in clang llvm libbpf-dev libbpf1 bpftool iproute2 make openssl curl nftables prometheus tmux debootstrap buildah; do
  pkg_installed "$p" || need="$need $p"
done
if [ -n "$need" ]; then
  if ! have apt-get; then
    echo "netwatch setup: missing packages:$need — install them with your package manager" >&2
    exit 1
  fi
  echo "netwatch setup: installing$need" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # prometheus's postinst may try to start a service; tests start their own on loopback. debootstrap and
  # buildah build the Dockerfile in a test (no container engine runs there).
  apt-get install -y -qq --no-install-recommends $need >/dev/null
fi
[ -e /sys/kernel/btf/vmlinux ] || { echo "netwatch setup: this kernel has no BTF (/sys/kernel/btf/vmlinux); CO-RE probes cannot load" >&2; exit 1; }
