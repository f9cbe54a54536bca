#!/bin/sh
# The entrypoint of the real node's PostgreSQL image (hack/node-images.sh). It keeps the part of
# the official postgres image's contract that the store chart relies on:
#   - POSTGRES_USER (default postgres) is the superuser, with POSTGRES_PASSWORD;
#   - POSTGRES_DB (default: the user's name) is created on the first start;
#   - PGDATA (default /var/lib/postgresql/data) is initialised when it holds no cluster, and kept
#     otherwise;
#   - the server listens on every address, port 5432; password logins over TCP (scram-sha-256),
#     trusted logins on the local socket;
#   - it runs as whatever user the pod gives it (the chart: 999, which this image names postgres);
#   - PGDATA is made mode 0700 at every start.
# It does not run /docker-entrypoint-initdb.d scripts, and it does not take POSTGRES_INITDB_ARGS
# (the chart uses neither).
set -eu

if [ "$#" -gt 0 ] && [ "$1" != postgres ]; then
	exec "$@"
fi
: "${PGDATA:=/var/lib/postgresql/data}"
: "${POSTGRES_USER:=postgres}"
: "${POSTGRES_DB:=$POSTGRES_USER}"
export PGDATA

# As the official image does on every start: PostgreSQL refuses a data directory that its group
# may write, and the kubelet's fsGroup change (fsGroupChangePolicy Always, or a volume whose root
# does not match) gives the group rwx and setgid on everything in the volume.
mkdir -p "$PGDATA"
chmod 700 "$PGDATA" 2>/dev/null || :

if [ ! -s "$PGDATA/PG_VERSION" ]; then
	if [ -z "${POSTGRES_PASSWORD:-}" ]; then
		echo "postgres-entrypoint: POSTGRES_PASSWORD is not set" >&2
		exit 1
	fi
	pwfile=$(mktemp)
	printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
	initdb --username="$POSTGRES_USER" --pwfile="$pwfile" --auth-local=trust --auth-host=scram-sha-256 >/dev/null
	rm -f "$pwfile"
	echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
	# Started on the socket only, to make the database, then stopped.
	pg_ctl --wait --silent --options="-c listen_addresses=''" start
	if [ "$POSTGRES_DB" != postgres ]; then
		# From standard input: psql quotes the name (:"db") there, not in -c.
		echo 'CREATE DATABASE :"db";' | psql --quiet --no-psqlrc -v ON_ERROR_STOP=1 \
			--username="$POSTGRES_USER" --dbname=postgres --set=db="$POSTGRES_DB"
	fi
	pg_ctl --wait --silent --mode=fast stop
	echo "postgres-entrypoint: initialised $PGDATA"
fi
exec postgres -c listen_addresses='*'
