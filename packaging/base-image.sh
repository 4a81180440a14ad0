#!/bin/sh
# Makes a local Debian bookworm base image with Node.js 20 and npm, for building the Dockerfile
# where no registry of container images is reachable: debootstrap from the Debian mirror apt uses,
# plus this host's node and npm (what node:20-bookworm-slim would bring). Needs root, debootstrap, buildah.
#   sh packaging/base-image.sh [TAG]      (default localhost/netwatch-base:bookworm-node20)
set -eu
TAG=${1:-localhost/netwatch-base:bookworm-node20}
MIRROR=${DEBIAN_MIRROR:-$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1)}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
NODE=$(command -v node)
NPM_DIR=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
case "$("$NODE" --version)" in v20.*) ;; *) echo "base-image: node 20 is needed, found $("$NODE" --version)" >&2; exit 1 ;; esac
ROOT=$(mktemp -d /var/tmp/netwatch-rootfs.XXXXXX)
trap 'rm -rf "$ROOT"' EXIT
debootstrap --variant=minbase bookworm "$ROOT" "$MIRROR" >/dev/null
install -m 0755 "$NODE" "$ROOT/usr/local/bin/node"
mkdir -p "$ROOT/usr/local/lib/node_modules"
cp -a "$NPM_DIR" "$ROOT/usr/local/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$ROOT/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$ROOT/usr/local/bin/npx"
rm -rf "$ROOT/var/cache/apt/archives/"*.deb
CTR=$(buildah from scratch)
MNT=$(buildah mount "$CTR")
tar -C "$ROOT" -c . | tar -C "$MNT" -x
buildah umount "$CTR" >/dev/null
buildah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --cmd /bin/bash "$CTR"
buildah commit --rm -q "$CTR" "$TAG" >/dev/null
echo "$TAG"
