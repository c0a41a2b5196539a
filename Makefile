# Rosetta — the two commands a newcomer needs are `make run` and `make test`.
SHELL := /bin/bash
GO ?= go
PKG := ./...

.PHONY: run test generate check-generated assets build vet fmt bench bench-load clean

## run: the console on http://localhost:8080 with an embedded PostgreSQL under .data/
run: assets
	$(GO) run ./cmd/rosetta serve

## test: everything — generated code fresh, gofmt, vet and staticcheck, all tests (race detector on) on real PostgreSQL and Chromium
test: assets check-generated vet
	$(GO) test -race -count=1 -timeout 30m $(PKG)

## build: a single binary in bin/rosetta with the assets embedded
build: assets
	$(GO) build -trimpath -o bin/rosetta ./cmd/rosetta

## generate: regenerate sqlc (queries/ → internal/db) and templ (views/) output
generate:
	$(GO) tool sqlc generate -f queries/sqlc.yaml
	$(GO) tool templ generate -path views

## check-generated: fail when committed generated code differs from its sources
check-generated:
	$(GO) tool sqlc diff -f queries/sqlc.yaml
	$(GO) tool templ generate -path views
	@if ! git diff --quiet -- views; then \
		echo "views/*_templ.go are stale: run 'make generate' and commit the result" >&2; \
		git --no-pager diff --stat -- views >&2; exit 1; fi
	@if [ -n "$$(git ls-files --others --exclude-standard -- views)" ]; then \
		echo "generated templ files are not committed:" >&2; \
		git ls-files --others --exclude-standard -- views >&2; exit 1; fi

## assets: front-end packages from npm, copied into static/vendor (embedded in the binary)
assets: static/vendor/.stamp

static/vendor/.stamp: package.json package-lock.json static/build.mjs
	npm ci --no-audit --no-fund --loglevel=error
	npm run --silent assets
	@touch $@

vet:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:" >&2; echo "$$out" >&2; exit 1; fi
	$(GO) vet $(PKG)
	$(GO) tool staticcheck $(PKG)

fmt:
	gofmt -w $$(git ls-files '*.go')

## bench: benchmarks (performance is measured here, never asserted in make test): the Go
## benchmarks, then the load driver, which writes its table into BENCHMARKS.md
BENCH_DURATION ?= 3s
bench: assets
	$(GO) test -run '^$$' -bench . -benchmem $(PKG)
	BENCH_DURATION=$(BENCH_DURATION) $(GO) run ./cmd/rosetta-bench

## bench-load: the load driver alone (cmd/rosetta-bench; BENCH_DURATION per figure)
bench-load: assets
	BENCH_DURATION=$(BENCH_DURATION) $(GO) run ./cmd/rosetta-bench

clean:
	rm -rf bin static/vendor/* node_modules
