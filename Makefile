# infrakit-manager: build, test, lint, demo, bench, fuzz.
GO       ?= go
BUILD    ?= build
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT   ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS  := -X main.version=$(VERSION) -X main.commit=$(COMMIT)
BINARIES := infrakit-manager infrakit infrakit-group-sim
FUZZTIME ?= 5m
TESTFLAGS ?=

.PHONY: all binaries test test-short lint demo bench fuzz fuzz-smoke swarm-lab-install clean

all: lint binaries test

binaries: $(addprefix $(BUILD)/,$(BINARIES))

$(BUILD)/%: FORCE
	$(GO) build -ldflags "$(LDFLAGS)" -o $@ ./cmd/$*

FORCE:

# The whole suite, race detector on. Tests that need a Docker engine run when
# one can be started here (root, dockerd installed) and skip with the reason
# otherwise; with CI=true they never skip.
test:
	$(GO) test -race -count=1 -timeout 30m $(TESTFLAGS) ./...

# Unit tests only (no e2e processes, no Docker).
test-short:
	$(GO) test -race -short -count=1 ./...

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

demo: binaries
	BUILD=$(BUILD) hack/demo.sh

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
