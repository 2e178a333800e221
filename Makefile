# ckpt: build, test, lint, demo.
#
#   make build   bin/ckpt and bin/containerd-shim-ckpt-v2
#   make test    dependencies, build, lint, every package's tests (the C/R suite
#                included, verbose so each C/R test shows) and a short fuzz run,
#                then a check that nothing was left behind
#   make lint    gofmt, go vet, golangci-lint (.golangci.yml), file length
#   make demo    a container under containerd: checkpoint, restore, step by step
#   make fuzz    a longer fuzz run of the image reader and of the dry-run
#                validation (FUZZTIME each, default 5m)

# hack/deps.sh accepts a Go at /usr/local/go/bin when none is on PATH.
export PATH := $(PATH):/usr/local/go/bin
GO ?= go
FUZZTIME ?= 5m
# make test fuzzes for a number of executions (about 20 s here), not a
# duration: Go 1.26's fuzz coordinator can report "context deadline
# exceeded" as a failure when a -fuzztime duration ends under load
# (golang/go#75804, fixed in Go 1.27).
TEST_FUZZ_EXECS ?= 100000
# The C/R suite alone is budgeted at ~15 minutes; this is a hang guard.
TEST_TIMEOUT ?= 40m

.PHONY: all build test test-suites deps lint demo fuzz clean bench

all: build

# -tags seccomp: libcontainer installs containers' seccomp profiles through
# libseccomp (cgo; hack/deps.sh installs libseccomp-dev). Without it the
# OCI runtime refuses a bundle with a seccomp profile.
# containerd-shim-ckpt-v2 (containerd's shim for runtime type
# io.containerd.ckpt.v2) drives the bin/ckpt next to it.
build:
	$(GO) build -tags seccomp -o bin/ckpt ./cmd/ckpt
	$(GO) build -o bin/containerd-shim-ckpt-v2 ./cmd/containerd-shim-ckpt-v2

deps:
	hack/deps.sh

# The suites run under hack/leftovers, a child subreaper: it fails the run
# if they left a process, mount, cgroup, network namespace or nftables
# table behind.
test: deps build lint
	$(GO) run ./hack/leftovers -- $(MAKE) --no-print-directory test-suites

test-suites:
	$(GO) test -count=1 -timeout $(TEST_TIMEOUT) $$($(GO) list ./... | grep -v '/integration$$')
	$(GO) test -count=1 -timeout $(TEST_TIMEOUT) -v ./integration
	$(GO) test ./image -run='^$$' -fuzz=FuzzReader -fuzztime=$(TEST_FUZZ_EXECS)x
	$(GO) test ./image -run='^$$' -fuzz=FuzzDryRun -fuzztime=$(TEST_FUZZ_EXECS)x

# golangci-lint is pinned in tools/go.mod (a module of its own, so that its
# dependencies never move ckpt's); .golangci.yml gives each rule's reason.
# No Go file over 800 lines: a file is read in one sitting.
GOLANGCI = $(GO) tool -modfile=tools/go.mod golangci-lint
MAX_FILE_LINES ?= 800
lint:
	@out="$$(gofmt -l $$(git ls-files -co --exclude-standard '*.go'))"; \
	if [ -n "$$out" ]; then echo "gofmt -l:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GOLANGCI) run --allow-parallel-runners ./...
	@long="$$(git ls-files -co --exclude-standard '*.go' | xargs wc -l | awk '$$2 != "total" && $$1 > $(MAX_FILE_LINES)')"; \
	if [ -n "$$long" ]; then echo "files over $(MAX_FILE_LINES) lines:"; echo "$$long"; exit 1; fi

demo: deps build
	hack/demo.sh

# ckpt against CRIU 4.1.1 and the hardware floor, scaling tables and real
# programs (BENCH_RUNS, BENCH_SIZES, BENCH_SCALE, BENCH_SERVERS, BENCH_QUICK=1:
# hack/bench.sh); writes bench/results/*.json and docs/performance.md.
bench: build
	hack/bench.sh

fuzz:
	$(GO) test ./image -run='^$$' -fuzz=FuzzReader -fuzztime=$(FUZZTIME)
	$(GO) test ./image -run='^$$' -fuzz=FuzzDryRun -fuzztime=$(FUZZTIME)

clean:
	rm -rf bin
