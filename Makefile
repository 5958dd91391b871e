# chainctl — the two commands a new user needs are `make run` and `make test`.
GO        ?= go
BIN       ?= bin
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X github.com/chainctl/chainctl/internal/version.Version=$(VERSION)
RUN_FLAGS ?=

.PHONY: all build run test test-short generate bench fmt vet fuzz tools clean

all: build

build: ## build bin/chainctl and bin/docker-credential-chainctl
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/ ./cmd/chainctl ./cmd/docker-credential-chainctl

run: build ## start the registry on the embedded default (filesystem + SQLite), in dev mode
	$(BIN)/chainctl registry serve --dev $(RUN_FLAGS)

tools: ## install the real clients and suites the tests drive
	./.ci/tools.sh

# The packages whose code or tests run goroutines against shared state; the
# race detector runs them again in every `make test` (all of ./... under
# -race would double the suite's time for packages that are sequential).
RACE_PKGS := ./internal/keyedmutex ./internal/logbuf ./internal/tokencache ./internal/registry \
	./internal/gc ./internal/store/sqlite ./internal/store/sqlstore ./internal/metrics ./internal/session ./internal/credhelper \
	./internal/server ./internal/eventsink

test: tools ## the whole suite: unit, integration, OCI conformance, generated-file freshness, race detector
	$(GO) vet ./...
	PATH="$$($(GO) env GOPATH)/bin:$$PATH" $(GO) test -count=1 -timeout 30m ./...
	PATH="$$($(GO) env GOPATH)/bin:$$PATH" $(GO) test -race -count=1 -timeout 10m $(RACE_PKGS)

test-short: ## unit tests only, no external tools
	$(GO) test -short ./...

generate: ## regenerate docs/cli and completions from the cobra tree
	$(GO) run ./internal/cli/gendocs -docs docs/cli -completions completions

# BENCH_WORKDIR puts the registries' data elsewhere than the system temp
# directory (BENCH_WORKDIR=/dev/shm measures on tmpfs); BENCH_FLAGS adds
# flags (-rounds 3, -markdown, ...).
BENCH_WORKDIR ?=
BENCH_FLAGS   ?=

bench: build ## side-by-side load against CNCF Distribution; prints a table of ratios
	./.ci/tools.sh bench
	PATH="$$($(GO) env GOPATH)/bin:$$PATH" $(GO) run ./cmd/chainctl-bench -chainctl $(BIN)/chainctl -helper $(BIN)/docker-credential-chainctl \
		$(if $(BENCH_WORKDIR),-workdir $(BENCH_WORKDIR)) $(BENCH_FLAGS)

FUZZ_TARGETS := FuzzRepositoryName FuzzReference FuzzDigest FuzzContentRange FuzzRange FuzzManifest FuzzParseRoute FuzzAccepts
FUZZTIME     ?= 30s

fuzz: ## run each fuzz target for FUZZTIME (their seed corpora run in every `make test`)
	for t in $(FUZZ_TARGETS); do $(GO) test ./internal/registry -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) || exit 1; done

fmt:
	gofmt -w $$(git ls-files '*.go')

vet:
	$(GO) vet ./...

clean:
	rm -rf $(BIN)
