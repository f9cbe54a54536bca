#!/usr/bin/env bash
# Builds the root file system of the real node's service images (make node-images): Debian 12
# (debootstrap, minbase) with PostgreSQL 15 and Redis 7.0 from Debian's packages, and the
# entrypoint that gives PostgreSQL the official image's contract (hack/images/postgres-entrypoint.sh).
# The result is one uncompressed layer tarball, OUT/services-rootfs.tar, which
# internal/harness/devstack imports as the images storeplatform/postgres and storeplatform/redis
# (docs/real-node.md). No registry is reachable here: this is how those images exist at all.
#
# Usage: hack/node-images.sh OUT   (as root; needs Debian's debootstrap and deb.debian.org)
set -euo pipefail

out=${1:?usage: hack/node-images.sh OUT}
here=$(cd "$(dirname "$0")" && pwd)
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
root="$out/services-rootfs"

if [ "$(id -u)" != 0 ]; then
	echo "hack/node-images.sh: run as root (debootstrap and chroot)" >&2
	exit 2
fi
command -v debootstrap >/dev/null || { echo "hack/node-images.sh: debootstrap not found (apt-get install debootstrap)" >&2; exit 2; }

mkdir -p "$out"
rm -rf "$root" "$out/services-rootfs.tar"
echo ">> debootstrap bookworm (minbase) into $root"
mkdir -p "$out/debootstrap-cache"
out=$(cd "$out" && pwd)
root="$out/services-rootfs"
# The downloaded packages are kept (--cache-dir) for the next build.
debootstrap --variant=minbase --cache-dir="$out/debootstrap-cache" bookworm "$root" "$mirror" >"$out/debootstrap.log"

# The official images run PostgreSQL and Redis as UID and GID 999, and the store chart runs their
# pods so (runAsUser 999): the users must exist before the packages would make their own.
chroot "$root" groupadd --system --gid 999 postgres
chroot "$root" useradd --system --uid 999 --gid 999 --home-dir /var/lib/postgresql --shell /bin/sh postgres
# No service starts inside the chroot, and no cluster "main": the entrypoint makes PGDATA.
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"
mkdir -p "$root/etc/postgresql-common"
echo "create_main_cluster = false" >"$root/etc/postgresql-common/createcluster.conf"

echo ">> apt-get install postgresql-15 redis-server"
mount -t proc proc "$root/proc"
trap 'umount "$root/proc" 2>/dev/null || true' EXIT
chroot "$root" apt-get update -qq
DEBIAN_FRONTEND=noninteractive chroot "$root" apt-get install -y -qq --no-install-recommends \
	postgresql-15 redis-server >"$out/apt.log"
chroot "$root" apt-get clean
umount "$root/proc"
trap - EXIT

rm -f "$root/usr/sbin/policy-rc.d"
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/* "$root"/var/log/*
install -m 0755 "$here/images/postgres-entrypoint.sh" "$root/usr/local/bin/postgres-entrypoint.sh"
# The socket directory, as the official image has it: any user may make its socket there.
mkdir -p "$root/var/run/postgresql"
chown 999:999 "$root/var/run/postgresql"
chmod 3777 "$root/var/run/postgresql"

echo ">> $out/services-rootfs.tar"
tar --numeric-owner --sort=name --mtime=@0 -C "$root" \
	--exclude=./dev/* --exclude=./proc/* --exclude=./sys/* \
	-cf "$out/services-rootfs.tar.tmp" .
mv "$out/services-rootfs.tar.tmp" "$out/services-rootfs.tar"
rm -rf "$root"
