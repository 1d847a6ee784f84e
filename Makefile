# simdmlp — the two commands a new machine needs are `make run` and `make test`.
# Both do their own set-up (data, tools); see README.md.

GO        ?= go
GOBIN     := $(shell $(GO) env GOPATH)/bin
STATICCHECK_VERSION := v0.8.2
DATA_DIR  := /usr/share/datasets/fashion-mnist
# `make run ARGS="-epochs 1"` passes flags to `simdmlp train`.
ARGS      ?=

.PHONY: all run build test test-root test-bench vet lint generate bench data cross clean

all: build

build:
	$(GO) build -o bin/simdmlp ./cmd/simdmlp

# Trains the tutorial's final model on real Fashion-MNIST.
run: data build
	./bin/simdmlp train $(ARGS)

# Everything CI checks: vet and staticcheck, the root module's tests (with
# the race detector on the packages that run goroutines), every benchmark
# executed once so none rots, and the bench module's tests.
test: vet lint test-root test-bench

test-root:
	$(GO) test -count=1 ./...
	$(GO) test -count=1 -tags purego ./kernels/...
	$(GO) test -count=1 -race -run 'Concurrent|Alloc' ./kernels/...
	$(GO) test -count=1 -run '^$$' -bench . -benchtime 1x ./kernels/... ./mnist/... ./optim/...

test-bench:
	cd bench && $(GO) vet ./... && $(GO) test -count=1 ./... && \
		$(GO) test -count=1 -run '^$$' -bench . -benchtime 1x ./...

vet:
	gofmt -l . | tee /dev/stderr | (! read)
	$(GO) vet ./...
	$(GO) vet -tags purego ./...
	GOARCH=arm64 $(GO) vet ./...
	cd bench && $(GO) vet ./...

lint:
	@test -x $(GOBIN)/staticcheck || $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	$(GOBIN)/staticcheck ./...
	cd bench && $(GOBIN)/staticcheck ./...

# Regenerates the assembly in kernels/asm from the generators in gen/.
generate:
	$(GO) generate ./...

# Kernel and peer benchmarks on one core (see bench/README.md for the peers).
bench:
	GOMAXPROCS=1 $(GO) test -run '^$$' -bench . -count 5 ./kernels/ | tee bench-kernels.txt
	cd bench && GOMAXPROCS=1 $(GO) test -run '^$$' -bench . -count 5 ./... | tee ../bench-peers.txt

# Installs Debian's Fashion-MNIST when no copy is found and apt is usable;
# otherwise simdmlp downloads the files itself into the user cache.
data:
	@if [ -f $(DATA_DIR)/train-images-idx3-ubyte.gz ] || [ -n "$$SIMDMLP_DATA" ]; then \
		exit 0; \
	elif command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
		echo "installing Debian's dataset-fashion-mnist"; \
		(apt-get install -y -qq dataset-fashion-mnist || \
		 (apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist)); \
	elif command -v sudo >/dev/null && command -v apt-get >/dev/null; then \
		sudo apt-get install -y -qq dataset-fashion-mnist || true; \
	else \
		echo "Fashion-MNIST not installed; simdmlp will look in ~/.keras/datasets/fashion-mnist or download it"; \
	fi

clean:
	rm -rf bin bench-kernels.txt bench-peers.txt
