# Tooken — the two set-up commands are `make run` and `make test`.
GO ?= go
PKGS := ./...

.PHONY: run test generate check-generate lint bench build fuzz load

## run: start the server on the embedded SQLite default in ./.tooken (no other service needed)
run:
	$(GO) run ./cmd/tooken serve

## test: vet, format check and every test (PostgreSQL tests need TOOKEN_TEST_DATABASE_URL or Docker)
test: lint
	$(GO) test -race -count=1 -timeout 8m $(PKGS)

## lint: gofmt and go vet
lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet $(PKGS)

## generate: regenerate the strict server and the SDK from openapi.yaml
generate:
	$(GO) generate ./adapters/httpapi ./sdk

## check-generate: fail when the generated code differs from what openapi.yaml produces
check-generate: generate
	git diff --exit-code -- adapters/httpapi/server.gen.go sdk/client.gen.go

## bench: benchmarks (HTTP paths on SQLite and PostgreSQL, revocation propagation across two
## PostgreSQL replicas, signing, sdk/verify VERIFY_RUNS times); prints tables (BENCHTIME=1s per benchmark)
BENCHTIME ?= 1s
VERIFY_RUNS ?= 3
bench:
	GO="$(GO)" $(GO) run ./tests/bench/cmd/benchtable -benchtime $(BENCHTIME) -verify-runs $(VERIFY_RUNS)

## load: load harness on PostgreSQL (not part of test): tooken serve against its own baseline and pgbench,
## fixed-rate and max steps of LOAD_DURATION each, then a SOAK-long soak (SOAK=0 skips it); PASS/FAIL
## lines for the ratio targets; the report is appended to BENCHMARKS.md
LOAD_DURATION ?= 10s
SOAK ?= 5m
LOAD_CLIENTS ?= 16
load:
	GO="$(GO)" $(GO) run ./tests/load/cmd/loadrun -duration $(LOAD_DURATION) -soak $(SOAK) -clients $(LOAD_CLIENTS)

## build: the tooken binary in ./bin
build:
	$(GO) build -o bin/tooken ./cmd/tooken

## fuzz: run every fuzz target for FUZZTIME, one after another (their seeds also run in `make test`)
FUZZTIME ?= 20s
FUZZ_TARGETS := FuzzAPIKeyChecksum:./core FuzzBearerHeader:./adapters/httpapi \
	FuzzCreateTokenBody:./adapters/httpapi FuzzListQuery:./adapters/httpapi FuzzStrictFastAgrees:./adapters/httpapi \
	FuzzVerifyMutatedToken:./sdk/verify FuzzClaimsParsers:./sdk/verify FuzzVerify:./sdk/webhook
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		name=$${t%%:*}; pkg=$${t#*:}; echo "== $$name ($$pkg)"; \
		$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) $$pkg; \
	done
