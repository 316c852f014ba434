# infrakit-manager: build, test, lint, demo, bench, fuzz, image.
SHELL    := /bin/bash
GO       ?= go
BUILD    ?= build
VERSION  ?= $(shell cat VERSION)
COMMIT   ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
DATE     ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
BUILDPKG := github.com/infrakit-manager/manager/internal/buildinfo
LDFLAGS  := -X $(BUILDPKG).version=$(VERSION) -X $(BUILDPKG).commit=$(COMMIT) -X $(BUILDPKG).date=$(DATE)
BINARIES := infrakit-manager infrakit infrakit-group-sim
IMAGE    ?= infrakit-manager:$(VERSION)
DOCKER   ?= docker
FUZZTIME ?= 5m
TESTFLAGS ?=
TESTTIMEOUT ?= 10m
empty :=
space := $(empty) $(empty)

.PHONY: all binaries static image docker-engine test test-short lint demo bench fuzz fuzz-smoke swarm-lab-install clean sim sim-long chaos

all: lint binaries test

binaries: $(addprefix $(BUILD)/,$(BINARIES))

$(BUILD)/%: FORCE
	$(GO) build -ldflags "$(LDFLAGS)" -o $@ ./cmd/$*

FORCE:

# Static binaries (no cgo) for the container image, in $(BUILD)/image.
static:
	for b in infrakit-manager infrakit; do \
		CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS) -s -w" -o $(BUILD)/image/$$b ./cmd/$$b || exit 1; \
	done

# The container image: the static binaries on scratch (see Dockerfile). The
# Docker engine is checked first, before minutes of compiling.
image: docker-engine static
	$(DOCKER) build -f Dockerfile -t $(IMAGE) $(BUILD)/image

docker-engine:
	@$(DOCKER) info >/dev/null 2>&1 || { echo "make image: no Docker engine answers '$(DOCKER) info' (DOCKER_HOST=$${DOCKER_HOST:-unix:///var/run/docker.sock}): start dockerd, or set DOCKER_HOST or DOCKER=" >&2; exit 1; }

# The whole suite, race detector on. Tests that need a Docker engine run when
# one can be started here (root, dockerd installed) and skip with the reason
# otherwise; with CI=true they never skip. The last line names every skipped
# test and why (hack/testsummary); TESTFLAGS=-v prints every line.
# TESTTIMEOUT bounds each package's test binary: a test that hangs is killed
# then, and the summary names it ("HUNG <package> <test>") with the last
# lines it printed; a lab it started goes down with it (labscript.ReapAfter).
#
# The e2e package runs in shards (E2E_SHARDS, each a -run pattern, then the
# rest with -skip), one after the other once the other packages are done, so
# each test binary stays well under TESTTIMEOUT and the timing-sensitive
# process tests do not share the two cores with each other.
E2E_SHARDS ?= ^TestEtcd ^TestFrozen ^TestSwarm
GOTEST = $(GO) test -race -count=1 -timeout $(TESTTIMEOUT) -json $(TESTFLAGS)
test:
	set -o pipefail; { \
		s=0; \
		$(GOTEST) $$($(GO) list ./... | grep -v '/e2e$$') || s=1; \
		for r in $(E2E_SHARDS); do $(GOTEST) -run "$$r" ./e2e || s=1; done; \
		$(GOTEST) -skip '$(subst $(space),|,$(E2E_SHARDS))' ./e2e || s=1; \
		exit $$s; \
	} | $(GO) run ./hack/testsummary $(if $(filter -v,$(TESTFLAGS)),-v)

# Unit tests only (no e2e processes, no Docker).
test-short:
	$(GO) test -race -short -count=1 ./...

# The seeded simulator of the controller (controller/sim): make test runs
# 200 seeds (TestSim). sim replays one seed, 16 times (SEED=N, printed by a
# failing run); sim-long runs seeds until stopped (Ctrl-C).
SEED ?= 1
sim:
	SIM_SEED=$(SEED) $(GO) test -race -count=1 -v -timeout 10m -run 'TestSimSeed$$' ./controller/sim

sim-long:
	SIM_LONG=1 $(GO) test -race -count=1 -v -timeout 0 -run 'TestSimLong$$' ./controller/sim

# The chaos run over real processes (hack/chaos): three managers with
# their own simulators, os and etcd mode, a seeded fault schedule, the
# invariants checked on the event logs and client history. CHAOS_ARGS, e.g.
# --duration 10m --seed 7 --modes os.
CHAOS_ARGS ?=
chaos: binaries
	$(GO) run ./hack/chaos --bin $(BUILD) $(CHAOS_ARGS)

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

demo: binaries
	BUILD=$(BUILD) hack/demo.sh

# Runs every benchmark section (a few minutes; the swarm and etcd sections
# need root, dockerd and etcd) and REWRITES the tracked docs/benchmarks.md
# with the run's figures: review the diff before committing it.
bench: binaries
	BUILD=$(BUILD) hack/bench.sh

# Long fuzzing of every target (FUZZTIME each).
fuzz:
	FUZZTIME=$(FUZZTIME) hack/fuzz.sh

# The short fuzz run CI does (about 30 s per target).
fuzz-smoke:
	FUZZTIME=30s hack/fuzz.sh

swarm-lab-install:
	hack/swarm-lab.sh install

clean:
	rm -rf $(BUILD)
