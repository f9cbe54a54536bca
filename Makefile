# Store Platform. `make help` lists every target.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

# Pinned tool versions. Changing one rebuilds that tool (and only that tool).
TEMPORAL_CLI_VERSION := v1.5.1
KUBE_VERSION         := v1.37.2
KWOK_VERSION         := v0.8.0
STATICCHECK_VERSION  := v0.8.2
# workflowcheck (Temporal's determinism check of the workflows) is built in its own module, like
# staticcheck: its go.temporal.io/sdk and golang.org/x/tools never move go.mod's.
WORKFLOWCHECK_VERSION := v0.6.0
# The helm CLI (an operator's and the tests' tool; the service uses the Helm SDK in-process and
# never runs it) is the helm.sh/helm/v3 of go.mod, pinned there by its `tool` line.
HELM_VERSION         := $(shell awk '$$1 == "helm.sh/helm/v3" { print $$2 }' go.mod)
# The real node's runtime (make node-tools): pinned by hack/node/go.mod, read from there. The
# kubelet and kube-proxy are KUBE_VERSION's, built from hack/kube with the control plane.
node_version = $(shell awk '$$1 == "$(1)" { print $$2 }' hack/node/go.mod)
CONTAINERD_VERSION   := $(call node_version,github.com/containerd/containerd/v2)
RUNC_VERSION         := $(call node_version,github.com/opencontainers/runc)
CNI_PLUGINS_VERSION  := $(call node_version,github.com/containernetworking/plugins)
CRICTL_VERSION       := $(call node_version,sigs.k8s.io/cri-tools)
COREDNS_VERSION      := $(shell awk '/github.com\/coredns\/coredns v/ { print $$NF }' hack/coredns/go.mod)
# NetworkPolicy on the real node (make netpol-tools, make e2e-local only): kube-router's firewall.
# v2.1.0 is the one version the module proxy serves; it has reported security flaws, so it runs
# only in the local stack's tests (docs/real-node.md), never in a user's cluster.
KUBE_ROUTER_VERSION  := v2.1.0

BIN   := $(CURDIR)/bin
LOCAL := $(CURDIR)/.local
GO    ?= go
KUBE_MINOR := $(word 2,$(subst ., ,$(KUBE_VERSION)))

# Version stamps: a tool is rebuilt only when its stamp (named after its pinned version) is missing.
TEMPORAL_STAMP := $(BIN)/.stamp-temporal-$(TEMPORAL_CLI_VERSION)
KUBE_STAMP     := $(BIN)/.stamp-kube-$(KUBE_VERSION)
KWOK_STAMP     := $(BIN)/.stamp-kwok-$(KWOK_VERSION)
STATICCHECK_STAMP := $(BIN)/.stamp-staticcheck-$(STATICCHECK_VERSION)
WORKFLOWCHECK_STAMP := $(BIN)/.stamp-workflowcheck-$(WORKFLOWCHECK_VERSION)
HELM_STAMP     := $(BIN)/.stamp-helm-$(HELM_VERSION)
KUBELET_STAMP  := $(BIN)/.stamp-kubelet-$(KUBE_VERSION)
NODE_STAMP     := $(BIN)/.stamp-node-containerd-$(CONTAINERD_VERSION)-runc-$(RUNC_VERSION)-cni-$(CNI_PLUGINS_VERSION)-crictl-$(CRICTL_VERSION)
COREDNS_STAMP  := $(BIN)/.stamp-coredns-$(COREDNS_VERSION)
KUBE_ROUTER_STAMP := $(BIN)/.stamp-kube-router-$(KUBE_ROUTER_VERSION)

KUBE_LDFLAGS := -s -w \
	-X k8s.io/component-base/version.gitVersion=$(KUBE_VERSION) \
	-X k8s.io/component-base/version.gitMajor=1 \
	-X k8s.io/component-base/version.gitMinor=$(KUBE_MINOR) \
	-X k8s.io/component-base/version.gitTreeState=clean \
	-X k8s.io/component-base/version.buildDate=1970-01-01T00:00:00Z \
	-X k8s.io/client-go/pkg/version.gitVersion=$(KUBE_VERSION) \
	-X k8s.io/client-go/pkg/version.gitMajor=1 \
	-X k8s.io/client-go/pkg/version.gitMinor=$(KUBE_MINOR)

.PHONY: help
help: ## help: list every target with one line each
	@awk 'BEGIN{FS=":.*## "} /^[a-zA-Z0-9_-]+:.*## /{sub(/^[^:]*: /,"",$$2); printf "  %-14s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

GO_PACKAGES := ./...
TEST_FLAGS  ?= -race -count=1 -timeout 30m

.PHONY: dev
dev: tools build web ## dev: build what is missing, then run the whole platform locally until Ctrl-C
	$(BIN)/storeplatform-dev --dir $(LOCAL) --bin $(BIN)

# How bin/storeplatform is built: static, without local paths or debug symbols. The Dockerfile's
# build stage runs the same go build (TestDockerfileBuildsWhatMakeBuilds keeps them in step).
GO_BUILD_FLAGS := -trimpath -ldflags "-s -w"

.PHONY: build
build: build-dev ## build: build bin/storeplatform (as the Dockerfile builds it: no dev stack, no FerretDB) and bin/storeplatform-dev
	CGO_ENABLED=0 $(GO) build $(GO_BUILD_FLAGS) -o $(BIN)/storeplatform ./cmd/storeplatform

# The development command (make dev, the chaos suite's power loss, hack/e2e-cluster.sh): the local
# stack with the API and the worker in one process. Not in the image.
.PHONY: build-dev
build-dev: ## build-dev: build bin/storeplatform-dev (the local stack with the API and the worker; not in the image)
	CGO_ENABLED=0 $(GO) build $(GO_BUILD_FLAGS) -o $(BIN)/storeplatform-dev ./cmd/storeplatform-dev

.PHONY: test
test: tools build lint web web-test medusa-example node-tools medusa-image ## test: go vet, staticcheck, workflowcheck, the dashboard's tests, the Medusa example's build, then Go unit, integration and browser tests (-race) on the real local stack, then the real node's smoke (root)
	$(GO) test $(TEST_FLAGS) -v $(GO_PACKAGES) 2>&1 | hack/test-summary.sh
	$(REAL_NODE_SMOKE)

# One Medusa store through the platform on the real node: create, serve, write a row, change its
# image, the row still there, delete (docs/real-node.md). Alone, after the other packages: the
# node's containers want the two cores, and only one real node runs on a machine.
REAL_NODE_SMOKE = STOREPLATFORM_REAL_NODE=smoke $(GO) test $(TEST_FLAGS) -v -run 'TestMedusaStoreServes$$' ./internal/harness/realstore/ 2>&1 | hack/test-summary.sh
.PHONY: real-node-smoke
real-node-smoke: tools node-tools medusa-image ## real-node-smoke: the real node's smoke of make test alone (root): a Medusa store created, served, changed and deleted through the platform
	$(REAL_NODE_SMOKE)

# The dashboard (web/): npm ci when the lockfile changed, then a production build into
# web/dist, which `storeplatform api` serves at / (WEB_DIR).
WEB_DEPS := web/node_modules/.stamp-$(shell cksum < web/package-lock.json | cut -d' ' -f1)
$(WEB_DEPS): web/package.json web/package-lock.json
	@rm -f web/node_modules/.stamp-*
	cd web && npm ci --no-audit --no-fund
	@touch $@

.PHONY: web
web: $(WEB_DEPS) ## web: build the dashboard into web/dist (served by the API at /)
	cd web && npm run build

.PHONY: web-test
web-test: web ## web-test: type-check and build the dashboard (make web), then run its Vitest tests
	cd web && npx vitest run

.PHONY: web-dev
web-dev: $(WEB_DEPS) ## web-dev: Vite dev server on :5173 with hot reload, proxying the API of a running `make dev`
	cd web && npm run dev

# examples/medusa-store: the Medusa app that a Medusa store's image is built from. Built as its
# Dockerfile builds it, then its built medusa-config is loaded with the store chart's environment.
MEDUSA_EXAMPLE := examples/medusa-store
.PHONY: medusa-example
MEDUSA_DEPS := $(MEDUSA_EXAMPLE)/node_modules/.stamp-$(shell cksum < $(MEDUSA_EXAMPLE)/package-lock.json | cut -d' ' -f1)
$(MEDUSA_DEPS): $(MEDUSA_EXAMPLE)/package.json $(MEDUSA_EXAMPLE)/package-lock.json
	@rm -f $(MEDUSA_EXAMPLE)/node_modules/.stamp-*
	cd $(MEDUSA_EXAMPLE) && npm ci --no-audit --no-fund
	@touch $@

medusa-example: $(MEDUSA_DEPS) ## medusa-example: install (npm ci, when its lockfile changed) and medusa build examples/medusa-store, then check that its built config reads the chart's environment
	cd $(MEDUSA_EXAMPLE) && npx medusa build
	@for f in medusa-config.js package.json package-lock.json public/admin/index.html; do \
	  test -s $(MEDUSA_EXAMPLE)/.medusa/server/$$f || { echo "medusa-example: no .medusa/server/$$f after medusa build" >&2; exit 1; }; \
	done
	cd $(MEDUSA_EXAMPLE) && node check-config.mjs

.PHONY: screenshots
screenshots: tools build web ## screenshots: run the browser test and save the dashboard's screenshots in docs/screenshots
	STOREPLATFORM_SCREENSHOTS=$(CURDIR)/docs/screenshots $(GO) test -count=1 -run TestDashboardEndToEnd -v ./api/

# The end-to-end check on a real cluster (docs/e2e-cluster.md): the API and the worker run here
# against KUBECONFIG's cluster, which needs ingress-nginx. Exit codes: see hack/e2e-cluster.sh -h.
E2E_MEDUSA_IMAGE ?= storeplatform/medusa-store:e2e
E2E_INGRESS_ADDR ?= 127.0.0.1:80

.PHONY: e2e-cluster
e2e-cluster: build $(TEMPORAL_STAMP) ## e2e-cluster: create, use (through the ingress) and delete a WooCommerce and a Medusa store on KUBECONFIG's cluster
	hack/e2e-cluster.sh --ingress '$(E2E_INGRESS_ADDR)' --medusa-image '$(E2E_MEDUSA_IMAGE)' $(E2E_FLAGS)

# The same script against the local stack's real node (hack/e2e-cluster-local.sh): the Medusa store
# only (WooCommerce needs wordpress.org), through the local ingress; root.
.PHONY: e2e-cluster-local
e2e-cluster-local: build tools node-tools medusa-image ## e2e-cluster-local: make e2e-cluster's script against the local real node (root): a Medusa store created, used through the local ingress by its host name, and deleted
	hack/e2e-cluster-local.sh $(E2E_FLAGS)

.PHONY: test-short
test-short: ## test-short: unit tests only (no local stack needed)
	$(GO) test -short $(TEST_FLAGS) $(GO_PACKAGES)

# The packages that define and register the Temporal workflows: workflowcheck follows every call
# of each function there taking a workflow.Context for what would break its replay (time.Now,
# time.Sleep, the global math/rand, os.Stdout, a goroutine, a channel, a range over a map).
# It does not see a write to a package variable: review keeps those out.
WORKFLOW_PACKAGES := ./workflows/... ./worker/...

.PHONY: lint
lint: $(STATICCHECK_STAMP) $(WORKFLOWCHECK_STAMP) ## lint: go vet, staticcheck and workflowcheck (the workflows' determinism)
	$(GO) vet $(GO_PACKAGES)
	$(BIN)/staticcheck $(GO_PACKAGES)
	$(BIN)/workflowcheck $(WORKFLOW_PACKAGES)

# The benchmark of issue #13 (internal/harness/bench): on a local stack of its own (more kwok nodes for 100
# stores), the platform side by side with the helm CLI of bin/ (go.mod's helm.sh/helm/v3, built by
# `make tools`) and the cluster's floor (the same rendered manifests applied with client-go), and the
# API on the embedded store. It prints the table and writes it into docs/benchmarks.md with the plot
# docs/benchmarks-ready.png and the worker's CPU profile docs/bench/worker-cpu.pprof. About 15 minutes.
# `make test` runs it small (TestBenchSmoke). BENCH_FLAGS='-stores 20 -keep' changes its sizes (bin/bench -h).
BENCH_FLAGS ?=
.PHONY: bench
bench: tools build ## bench: the platform against the helm CLI and the cluster's floor (100 stores at once, deletions, the sequential flow, the API), printed and written to docs/benchmarks.md with a plot and the worker's CPU profile
	$(GO) build -o $(BIN)/bench ./internal/harness/cmd/bench
	$(BIN)/bench -doc docs/benchmarks.md -bin $(BIN) $(BENCH_FLAGS)

.PHONY: bench-go
bench-go: ## bench-go: run the Go micro-benchmarks (request decoding, chart rendering) and print their figures
	$(GO) test -short -run '^$$' -bench . -benchmem $(GO_PACKAGES)

# The API fuzzer (internal/harness/fuzzhttp, issue #12): generated requests against the API on the real local
# stack, strict (FUZZ_STRICT=1: the test's known bugs fail it too). `make test` runs 1000 of them,
# tolerating the known bugs. Every run prints its seed; FUZZ_SEED=<seed> repeats it.
FUZZ_REQUESTS ?= 10000
FUZZ_SEED     ?=
.PHONY: fuzz-api
fuzz-api: tools ## fuzz-api: send FUZZ_REQUESTS (10000) generated requests to the API on the real stack; every figure must be 0 (5xx, panics, 3xx under /api, 4xx not problem+json, stores made by refused requests, cross-tenant data); FUZZ_SEED=n repeats a run
	FUZZ_REQUESTS='$(FUZZ_REQUESTS)' FUZZ_SEED='$(FUZZ_SEED)' FUZZ_STRICT=1 FUZZ_DOC=$(CURDIR)/docs/reliability.md \
	  $(GO) test -race -count=1 -timeout 60m -run '^TestFuzzAPI$$' -v ./internal/harness/fuzzhttp/

# The fault suite (internal/harness/chaos, issue #12): the platform's api and two workers from bin/ on the
# real local stack, with workers SIGKILLed, Temporal, FerretDB and kube-apiserver killed and restarted,
# create/delete races, a power loss of `storeplatform-dev` (which needs its ports 6443, 2379, 2380 and
# 10247 free: stop `make dev` first) and a rollout under worker kills. It prints one row per scenario
# and writes the table into docs/reliability.md; it fails when an invariant did not hold. Then it runs
# the API fuzzer (make fuzz-api), whose figures go into the same page. `make test`
# runs the scenarios that hold, small (TestChaosQuick). CHAOS_SEED=<seed> repeats a run's choices;
# CHAOS_FLAGS='-keep -dir /tmp/chaos' keeps its logs and data, '-only 4' runs one scenario (bin/chaos -h).
CHAOS_SEED  ?=
CHAOS_FLAGS ?=
.PHONY: chaos
chaos: tools build ## chaos: run the fault suite (7 scenarios) and then the API fuzzer (make fuzz-api) on the real local stack (about 15 minutes on 2 cores), and write their tables to docs/reliability.md; CHAOS_SEED=n repeats a run
	$(GO) build -o $(BIN)/chaos ./internal/harness/cmd/chaos
	$(BIN)/chaos -scale full -bin $(BIN) -doc docs/reliability.md $(if $(CHAOS_SEED),-seed $(CHAOS_SEED)) $(CHAOS_FLAGS)
	$(MAKE) fuzz-api

.PHONY: clean-stack
clean-stack: ## clean-stack: wipe the local stack's data (.local/); the next `make dev` starts empty
	rm -rf $(LOCAL)

.PHONY: clean
clean: clean-stack ## clean: remove bin/, .local/, web/node_modules, web/dist and the Medusa example's node_modules and build (the next build starts cold)
	rm -rf $(BIN) web/node_modules web/dist $(MEDUSA_EXAMPLE)/node_modules $(MEDUSA_EXAMPLE)/.medusa

$(STATICCHECK_STAMP):
	@mkdir -p $(BIN) && rm -f $(BIN)/.stamp-staticcheck-*
	GOBIN=$(BIN) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	@touch $@

$(WORKFLOWCHECK_STAMP):
	@mkdir -p $(BIN) && rm -f $(BIN)/.stamp-workflowcheck-*
	GOBIN=$(BIN) $(GO) install go.temporal.io/sdk/contrib/tools/workflowcheck@$(WORKFLOWCHECK_VERSION)
	@touch $@

.PHONY: tools
tools: $(TEMPORAL_STAMP) $(KUBE_STAMP) $(KWOK_STAMP) $(BIN)/kwok-stages.yaml $(HELM_STAMP) ## tools: build the pinned temporal CLI, Kubernetes control plane, etcd, kwok and helm into ./bin

$(TEMPORAL_STAMP):
	@echo ">> building temporal CLI $(TEMPORAL_CLI_VERSION) into bin/ (cold: about 8 minutes)"
	@mkdir -p $(BIN) && rm -f $(BIN)/.stamp-temporal-*
	GOBIN=$(BIN) $(GO) install -trimpath \
		-ldflags "-s -w -X github.com/temporalio/cli/temporalcli.Version=$(TEMPORAL_CLI_VERSION:v%=%)" \
		github.com/temporalio/cli/cmd/temporal@$(TEMPORAL_CLI_VERSION)
	@touch $@

$(KUBE_STAMP): hack/kube/go.mod hack/kube/go.sum
	@echo ">> building kube-apiserver, kube-controller-manager, kube-scheduler, kubectl $(KUBE_VERSION) and etcd into bin/ (cold: about 20 minutes)"
	@mkdir -p $(BIN) && rm -f $(BIN)/.stamp-kube-*
	cd hack/kube && $(GO) build -trimpath -ldflags "$(KUBE_LDFLAGS)" -o $(BIN)/ \
		k8s.io/kubernetes/cmd/kube-apiserver \
		k8s.io/kubernetes/cmd/kube-controller-manager \
		k8s.io/kubernetes/cmd/kube-scheduler \
		k8s.io/kubernetes/cmd/kubectl
	cd hack/kube && $(GO) build -trimpath -ldflags "-s -w" -o $(BIN)/etcd go.etcd.io/etcd/server/v3
	@touch $@

$(KWOK_STAMP):
	@echo ">> building kwok $(KWOK_VERSION) into bin/ (cold: about 3 minutes)"
	@mkdir -p $(BIN) && rm -f $(BIN)/.stamp-kwok-*
	GOBIN=$(BIN) $(GO) install -trimpath -ldflags "-s -w" sigs.k8s.io/kwok/cmd/kwok@$(KWOK_VERSION)
	@touch $@

$(HELM_STAMP):
	@echo ">> building helm $(HELM_VERSION) (go.mod's helm.sh/helm/v3) into bin/ (cold: about 3 minutes)"
	@mkdir -p $(BIN) && rm -f $(BIN)/.stamp-helm-*
	$(GO) build -trimpath -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$(HELM_VERSION) -X helm.sh/helm/v3/internal/version.gitTreeState=clean" \
		-o $(BIN)/helm helm.sh/helm/v3/cmd/helm
	@touch $@

# The real node (docs/real-node.md): the kubelet and kube-proxy of KUBE_VERSION, containerd (its
# ctr and runc shim too), runc with seccomp (cgo and Debian's libseccomp-dev: Debian's own runc is
# too old for containerd 2), the CNI plugins the bridge network needs, and crictl. Only the targets
# that start a real node build them.
.PHONY: node-tools
node-tools: $(KUBELET_STAMP) $(NODE_STAMP) $(COREDNS_STAMP) $(BIN)/pause $(BIN)/hello ## node-tools: build the real node's kubelet, kube-proxy, containerd, runc, CNI plugins, crictl and CoreDNS into ./bin

# CoreDNS with only the plugins the cluster DNS uses (hack/coredns/main.go).
$(COREDNS_STAMP): hack/coredns/go.mod hack/coredns/go.sum hack/coredns/main.go
	@echo ">> building CoreDNS $(COREDNS_VERSION) into bin/"
	@mkdir -p $(BIN) && rm -f $(BIN)/.stamp-coredns-*
	cd hack/coredns && CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w" -o $(BIN)/coredns .
	@touch $@

# The real node's own programs: the sandbox ("pause") image's, and the smoke test's workload.
$(BIN)/pause: $(wildcard internal/harness/cmd/pause/*.go)
	CGO_ENABLED=0 $(GO) build $(GO_BUILD_FLAGS) -o $@ ./internal/harness/cmd/pause
$(BIN)/hello: $(wildcard internal/harness/cmd/hello/*.go)
	CGO_ENABLED=0 $(GO) build $(GO_BUILD_FLAGS) -o $@ ./internal/harness/cmd/hello

# The real node's service images (docs/real-node.md): Debian 12 with PostgreSQL 15 and Redis 7.0
# from Debian's packages, as one root file system layer; rebuilt when the script or the entrypoint
# changes. Needs root and Debian's debootstrap.
NODE_IMAGES_STAMP := $(BIN)/images/.stamp-$(shell cat hack/node-images.sh hack/images/* | cksum | cut -d' ' -f1)
.PHONY: node-images
node-images: $(NODE_IMAGES_STAMP) ## node-images: build the real node's PostgreSQL and Redis images (Debian's packages, debootstrap; root) into bin/images
$(NODE_IMAGES_STAMP): hack/node-images.sh $(wildcard hack/images/*)
	@mkdir -p $(BIN)/images && rm -f $(BIN)/images/.stamp-*
	hack/node-images.sh $(BIN)/images
	@touch $@

# The real node's Medusa image: examples/medusa-store built (make medusa-example) with Node 22 and
# npm from npm's registry, over the services' Debian layer (make node-images). Root.
MEDUSA_LAYER := $(BIN)/images/medusa-layer.tar
MEDUSA_SOURCES := $(MEDUSA_EXAMPLE)/package-lock.json $(MEDUSA_EXAMPLE)/medusa-config.ts $(shell find $(MEDUSA_EXAMPLE)/src -type f 2>/dev/null)
.PHONY: medusa-image
medusa-image: medusa-example node-images $(MEDUSA_LAYER) ## medusa-image: build the real node's Medusa image layer (examples/medusa-store, Node 22; root) into bin/images
$(MEDUSA_LAYER): hack/medusa-image.sh $(MEDUSA_SOURCES) $(NODE_IMAGES_STAMP)
	hack/medusa-image.sh $(MEDUSA_EXAMPLE)/.medusa/server $(BIN)/images/services-rootfs.tar $@

.PHONY: test-real-node
test-real-node: tools node-tools medusa-image ## test-real-node: the local stack with a real node (root): pods run, are probed, served through Services, logged, keep volumes; a Medusa store through the platform keeps its data over a change, a resize, a suspension and a chart rollout
	STOREPLATFORM_REAL_NODE=1 $(GO) test $(TEST_FLAGS) -v -run 'TestRealNode' ./internal/harness/devstack/ 2>&1 | hack/test-summary.sh
	STOREPLATFORM_REAL_NODE=all $(GO) test -race -count=1 -timeout 60m -v -run 'TestMedusaStoreServes$$' ./internal/harness/realstore/ 2>&1 | hack/test-summary.sh

.PHONY: netpol-tools
netpol-tools: $(KUBE_ROUTER_STAMP) ## netpol-tools: build kube-router's network policy controller (KUBE_ROUTER_VERSION) into ./bin, for make e2e-local
$(KUBE_ROUTER_STAMP):
	@echo ">> building kube-router $(KUBE_ROUTER_VERSION) into bin/"
	@mkdir -p $(BIN) && rm -f $(BIN)/.stamp-kube-router-*
	CGO_ENABLED=0 GOBIN=$(BIN) $(GO) install -trimpath -ldflags "-s -w" github.com/cloudnativelabs/kube-router/v2/cmd/kube-router@$(KUBE_ROUTER_VERSION)
	@touch $@

.PHONY: e2e-local
e2e-local: tools node-tools medusa-image netpol-tools ## e2e-local: a Medusa store on the real node (root) through the platform and the local ingress (HTTP and HTTPS by its host name), with NetworkPolicy enforced (kube-router): no pod of another namespace reaches it
	STOREPLATFORM_REAL_NODE=smoke STOREPLATFORM_NETWORK_POLICY=1 $(GO) test $(TEST_FLAGS) -v -run 'TestMedusaStoreServes$$' ./internal/harness/realstore/ 2>&1 | hack/test-summary.sh
	@if iptables-save | grep -qE '^:KUBE-(ROUTER|POD-FW|NWPLCY)-'; then echo "e2e-local: the stopped stack left kube-router's chains in iptables" >&2; exit 1; fi

# Built as the control plane is (cgo as the toolchain defaults), so that they share its build cache.
$(KUBELET_STAMP): hack/kube/go.mod hack/kube/go.sum
	@echo ">> building kubelet and kube-proxy $(KUBE_VERSION) into bin/"
	@mkdir -p $(BIN) && rm -f $(BIN)/.stamp-kubelet-*
	cd hack/kube && $(GO) build -trimpath -ldflags "$(KUBE_LDFLAGS)" -o $(BIN)/ \
		k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-proxy
	@touch $@

CONTAINERD_TAGS := no_btrfs no_devmapper no_zfs
$(NODE_STAMP): hack/node/go.mod hack/node/go.sum
	@echo ">> building containerd $(CONTAINERD_VERSION), runc $(RUNC_VERSION), CNI plugins $(CNI_PLUGINS_VERSION) and crictl $(CRICTL_VERSION) into bin/"
	@mkdir -p $(BIN)/cni && rm -f $(BIN)/.stamp-node-*
	cd hack/node && CGO_ENABLED=0 $(GO) build -trimpath -tags '$(CONTAINERD_TAGS)' \
		-ldflags "-s -w -X github.com/containerd/containerd/v2/version.Version=$(CONTAINERD_VERSION)" -o $(BIN)/ \
		github.com/containerd/containerd/v2/cmd/containerd \
		github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2 \
		github.com/containerd/containerd/v2/cmd/ctr
	cd hack/node && CGO_ENABLED=1 $(GO) build -trimpath -tags seccomp \
		-ldflags "-s -w -X main.version=$(RUNC_VERSION:v%=%)" -o $(BIN)/runc github.com/opencontainers/runc
	cd hack/node && CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w" -o $(BIN)/cni/ \
		github.com/containernetworking/plugins/plugins/main/bridge \
		github.com/containernetworking/plugins/plugins/main/loopback \
		github.com/containernetworking/plugins/plugins/ipam/host-local \
		github.com/containernetworking/plugins/plugins/meta/portmap
	cd hack/node && CGO_ENABLED=0 $(GO) build -trimpath \
		-ldflags "-s -w -X sigs.k8s.io/cri-tools/pkg/version.Version=$(CRICTL_VERSION)" -o $(BIN)/crictl sigs.k8s.io/cri-tools/cmd/crictl
	@touch $@

# kwok has no built-in stages when run standalone: concatenate the "fast" node, pod and
# volume stages that its module ships into one --config file.
KWOK_STAGES := node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
	pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml \
	volume/fast/pvc-provision.yaml volume/fast/pv-bind.yaml volume/fast/pvc-delete.yaml volume/fast/pv-delete.yaml
$(BIN)/kwok-stages.yaml: $(KWOK_STAMP)
	@dir=$$($(GO) mod download -json sigs.k8s.io/kwok@$(KWOK_VERSION) | sed -n 's/.*"Dir": "\(.*\)",/\1/p'); \
	  for f in $(KWOK_STAGES); do echo '---'; cat "$$dir/kustomize/stage/$$f"; done > $@.tmp && mv $@.tmp $@
