# Coffer: make build | test | lint | run
GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X github.com/cofferhq/coffer/internal/cli.Version=$(VERSION)

.PHONY: build test lint run clean

## build: a static coffer binary in ./bin
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/coffer ./cmd/coffer

## test: install what the tests need when missing, then run every test with the race detector
## (deploy/aws is its own module: its template tests synthesize through node, without -race)
test:
	./scripts/test-deps.sh
	$(GO) test -race -timeout 20m ./... # the HA lab (deploy/lab) runs six scenarios: more than the default 10m per package on a busy machine
	cd deploy/aws && $(GO) test ./...

## lint: formatting and vet
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	cd deploy/aws && $(GO) vet ./...

## run: a development server on 127.0.0.1:8080 (SQLite and generated keys in ./coffer-data)
run:
	$(GO) run ./cmd/coffer server --dev

clean:
	rm -rf bin
