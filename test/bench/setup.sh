#!/bin/sh
# What `npm run bench` needs beyond `npm run setup`: the tools the agent is compared with —
# bpftrace and libbpf-tools (tcpstates) — from Debian/Ubuntu, only when missing. Idempotent; needs
# root. (The bench's C programs build with the clang and libbpf-dev that setup already installs.)
set -eu
need=""
pkg_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
for p in bpftrace libbpf-tools; do
  pkg_installed "$p" || need="$need $p"
done
if [ -n "$need" ]; then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "netwatch bench setup: missing packages:$need — install them with your package manager" >&2
    exit 1
  fi
  echo "netwatch bench setup: installing$need" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends $need >/dev/null
fi
for tool in bpftrace tcpstates; do
  command -v "$tool" >/dev/null 2>&1 || { echo "netwatch bench setup: $tool is not on PATH after installing" >&2; exit 1; }
done
