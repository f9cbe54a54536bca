#!/usr/bin/env bash
# hack/e2e-cluster.sh against the local stack's real node (make
# e2e-cluster-local; docs/real-node.md): it starts the stack alone
# (`storeplatform-dev -real-node -stack-only`: control plane, real node with
# its ingress on 127.0.0.1, store images) in a directory of its own, then
# runs the users' end-to-end script against it as against any cluster — the
# platform of the script's own, KUBECONFIG's cluster, the stores reached
# through the ingress by their host names — and stops the stack.
#
# What differs from a cluster of users, each said by a setting below: only
# the Medusa store (WooCommerce needs wordpress.org, which is not reachable
# here), the stores' values for the real node (STORE_VALUES: placement,
# volumes, local images, TLS), and no NetworkPolicy probe (the ingress runs
# outside the cluster; make e2e-local proves the policies with kube-router).
# Needs root, like every real node.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
die() {
	printf 'e2e-cluster-local: %s\n' "$*" >&2
	exit 1
}
((EUID == 0)) || die "the real node runs containers: run as root"
[[ -x bin/storeplatform-dev ]] || die "bin/storeplatform-dev not found: run \`make build\`"

work=$(mktemp -d "${TMPDIR:-/tmp}/storeplatform-e2e-local.XXXXXX")
stack_pid=
stop_stack() {
	[[ -n $stack_pid ]] || return 0
	kill -TERM "$stack_pid" 2>/dev/null || true
	local i
	for ((i = 0; i < 240; i++)); do
		kill -0 "$stack_pid" 2>/dev/null || break
		sleep 0.5
	done
	kill -KILL "$stack_pid" 2>/dev/null || true
	wait "$stack_pid" 2>/dev/null || true
	stack_pid=
}
on_exit() {
	local code=$?
	trap - EXIT INT TERM
	stop_stack
	if ((code == 0)); then rm -rf "$work"; else printf 'e2e-cluster-local: the stack'"'"'s logs are in %s/stack/logs\n' "$work" >&2; fi
	exit "$code"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

printf 'e2e-cluster-local: starting the local stack with its real node in %s\n' "$work"
# Its own ports (0: free ones) and no KUBECONFIG of the caller's: it beside
# `make dev`, and its cluster is the one the script gets.
env -u KUBECONFIG -u STORE_VALUES bin/storeplatform-dev -dir "$work/stack" -bin "$root/bin" -real-node -stack-only \
	-temporal-port 0 -temporal-ui-port -1 -mongo-port 0 -ingress-port 0 -ingress-tls-port 0 \
	>"$work/stack.out" 2>"$work/stack.log" &
stack_pid=$!
for ((i = 0; ; i++)); do
	grep -q '^The local stack is running' "$work/stack.out" 2>/dev/null && break
	if ! kill -0 "$stack_pid" 2>/dev/null || ((i >= 600)); then
		tail -n 20 "$work/stack.log" >&2 || true
		die "the local stack did not start (see above and $work/stack.log)"
	fi
	sleep 0.5
done
field() { awk -v k="$1" '$1 == k { print $2; exit }' "$work/stack.out"; }
kubeconfig=$(field Kubeconfig) ingress=$(field Ingress) class=$(field IngressClass) values=$(field StoreValues)
[[ -n $kubeconfig && -n $ingress && -n $class && -n $values ]] || die "storeplatform-dev -stack-only printed no kubeconfig, ingress or store values: $(cat "$work/stack.out")"
printf 'e2e-cluster-local: stack up (kubeconfig %s, ingress %s)\n' "$kubeconfig" "$ingress"

KUBECONFIG=$kubeconfig STORE_VALUES=$values E2E_ENGINES=medusa E2E_INGRESS_CLASS=$class E2E_INGRESS_NAMESPACE= \
	hack/e2e-cluster.sh --ingress "$ingress" --medusa-image docker.io/storeplatform/medusa-store:local "$@"
