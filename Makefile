# Common loops. `make test` is the one test command (CI runs it too).

GO ?= go

.PHONY: all build test test-short demo bench fmt vet lint clean

all: build

build:
	$(GO) build -o bin/openmini ./cmd/openmini

# Installs what is missing, starts a throwaway PostgreSQL, runs gofmt, vet and
# the race-enabled suite on SQLite and on PostgreSQL. Narrow it with
# `scripts/test.sh -run TestFoo ./sqldb/`.
test:
	scripts/test.sh

# Quick loop: SQLite only, nothing installed or started; tests needing
# PostgreSQL, S3 or Chromium skip.
test-short:
	OPENMINI_TEST_DB=sqlite $(GO) test ./...

demo:
	$(GO) run ./cmd/openmini serve --demo

bench:
	@set -e; found=0; for f in bench/*.sh; do \
		[ -e "$$f" ] || continue; found=1; \
		echo "==> $$f"; bash "$$f"; \
	done; [ $$found -eq 1 ] || echo "no bench/*.sh yet"

fmt:
	gofmt -w .

vet:
	$(GO) vet ./...

lint:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

clean:
	rm -rf bin/ coverage.out coverage.html
	$(GO) clean -testcache
