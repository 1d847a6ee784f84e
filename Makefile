# simdmlp — the two commands a new machine needs are `make run` and `make test`.
# Both do their own set-up (data, tools); see README.md.

GO        ?= go
GOBIN     := $(shell $(GO) env GOPATH)/bin
STATICCHECK_VERSION := v0.8.2
DATA_DIR  := /usr/share/datasets/fashion-mnist
# `make run ARGS="-epochs 1"` passes flags to `simdmlp train`.
ARGS      ?=

.PHONY: all run build test test-root test-exhaustive test-emulated check-neon-words test-bench test-fuzz vet lint generate check-generate bench data cross clean

all: build

build:
	$(GO) build -o bin/simdmlp ./cmd/simdmlp

# Trains the tutorial's final model on real Fashion-MNIST.
run: data build
	./bin/simdmlp train $(ARGS)

# Everything CI checks: vet and staticcheck, the root module's tests (with
# the race detector on the packages that run goroutines), every benchmark
# executed once so none rots, the bench module's tests, the performance
# regression gate on within-run ratios (test-gate, about 30 s), and every
# fuzz target for a counted number of inputs.
test: vet lint check-generate check-neon-words test-root test-emulated test-bench test-gate test-fuzz

# The kernel levels this CPU supports, read from /proc/cpuinfo's flags by
# awk: decided outside the code under test (its cpuid checks), so that a
# level the code fails to detect fails TestRequiredLevel and the gate
# instead of quietly dropping out of every test that loops over
# kernels.Available(). The flags Linux shows are those the kernel enabled,
# so a level the OS cannot save the registers of is absent here too.
# Empty (nothing required) where there is no /proc/cpuinfo.
comma := ,
HOST_LEVELS := $(shell if [ "$$(uname -m)" = aarch64 ]; then echo generic,neon; else \
	awk '/^flags[[:space:]]*:/ { for (i = 3; i <= NF; i++) f[$$i] = 1; x86 = 1; exit } \
	END { if (!x86) exit; l = "generic"; \
		if (f["avx2"] && f["fma"]) { l = l ",avx2"; \
			if (f["avx512f"] && f["avx512vl"] && f["avx512dq"] && f["avx512bw"]) l = l ",avx512" } \
		print l }' /proc/cpuinfo 2>/dev/null; fi)
HOST_BEST := $(lastword $(subst $(comma), ,$(HOST_LEVELS)))

test-root:
	SIMDMLP_TEST_LEVELS=$(HOST_LEVELS) SIMDMLP_TEST_REQUIRE=$(HOST_BEST) $(GO) test -count=1 ./...
	$(GO) test -count=1 -tags purego ./kernels/...
	$(GO) test -count=1 -race -run 'Concurrent|Alloc' ./kernels/... ./mlp/...
	$(GO) test -count=1 -race -run 'Load' ./examples/serve/
	$(GO) test -count=1 -run '^$$' -bench . -benchtime 1x ./kernels/... ./mnist/... ./optim/... ./mlp/...

# The lower levels out of process: the AVX2 level on an emulated Haswell
# (no AVX-512, so one EVEX instruction in AVX2 code dies with SIGILL, and
# SIMDMLP_TEST_REQUIRE fails the run if avx2 was not selected), and the
# whole suite built for arm64 on an emulated Cortex-A53, which must select
# the neon level (the trainer's tests included). Emulated timings mean
# nothing; these runs are for correctness only. (The arm64 run takes 7 to
# 9 minutes on 2 cores; mlp's package alone took 9.5 to over 10 minutes,
# go test's default timeout, hence -timeout 30m.) TestEnvVar cannot re-execute an arm64 binary
# under qemu-user, so the last line checks that SIMDMLP_KERNELS=generic
# still forces the reference there. The arm64 run is -short: the long
# end-to-end runs (the full chapter 7-3 replay, the load test) repeat
# what the native run proves, at emulated speed. So are the
# interoperability tests (ONNX Runtime through node, PyTorch through
# python3): they skip under -short, and SIMDMLP_TEST_REQUIRE_INTEROP, which
# CI sets to fail a run whose interop tests skipped, is dropped for this
# run: node and python3 are host programs, so an arm64 test binary would
# only repeat the native run's check, and train its models at emulated
# speed first.
QEMU_X86   := qemu-x86_64-static -cpu Haswell
QEMU_ARM64 := qemu-aarch64-static -cpu cortex-a53
# The int8 product has a second arm64 variant, for cores with the
# dot-product extension (SDOT), which the Cortex-A53 lacks: the int8 tests
# run again on an emulated core that has it (-cpu max), where
# SIMDMLP_TEST_INT8 makes TestInt8NEONVariant fail unless the SDOT variant
# was installed, and once more there with GODEBUG=cpu.asimddp=off (read by
# golang.org/x/sys/cpu) given to the test binary alone, which must select
# the widening one (the runtime's own parser prints a harmless
# "GODEBUG: unknown cpu feature" line for it).
QEMU_ARM64_DOT := qemu-aarch64-static -cpu max
INT8_TESTS     := Int8|QuantizeRows|Installed
test-emulated:
	SIMDMLP_TEST_LEVELS=generic,avx2 SIMDMLP_TEST_REQUIRE=avx2 $(GO) test -count=1 -exec '$(QEMU_X86)' ./kernels/...
	env -u SIMDMLP_TEST_REQUIRE_INTEROP SIMDMLP_TEST_LEVELS=generic,neon SIMDMLP_TEST_REQUIRE=neon SIMDMLP_TEST_INT8=wide GOARCH=arm64 \
		$(GO) test -count=1 -short -timeout 30m -exec '$(QEMU_ARM64)' ./...
	SIMDMLP_KERNELS=generic SIMDMLP_TEST_REQUIRE=generic GOARCH=arm64 $(GO) test -count=1 -exec '$(QEMU_ARM64)' -run '^TestRequiredLevel$$' ./kernels/
	SIMDMLP_TEST_LEVELS=generic,neon SIMDMLP_TEST_REQUIRE=neon SIMDMLP_TEST_INT8=sdot GOARCH=arm64 \
		$(GO) test -count=1 -exec '$(QEMU_ARM64_DOT)' -run '$(INT8_TESTS)' ./kernels/
	SIMDMLP_TEST_LEVELS=generic,neon SIMDMLP_TEST_REQUIRE=neon SIMDMLP_TEST_INT8=wide GOARCH=arm64 \
		$(GO) test -count=1 -exec 'env GODEBUG=cpu.asimddp=off $(QEMU_ARM64_DOT)' -run '$(INT8_TESTS)' ./kernels/

# Each fuzz target for FUZZ_RUNS generated inputs: counted, because
# time-based fuzzing is flaky on Go 1.26, and several inputs per target
# beyond the seeds, so that new corner cases are tried on every CI run.
FUZZ_RUNS ?= 3000
FUZZ_TARGETS := kernels:FuzzSoftmax kernels:FuzzSoftmaxCrossEntropy kernels:FuzzActivations \
	kernels:FuzzOptimizers kernels:FuzzOptimLevels kernels:FuzzReductionLevels kernels:FuzzElemLevels \
	kernels:FuzzSgemm kernels:FuzzDenseForward kernels:FuzzDropoutLevels mnist:FuzzReadIDX mnist:FuzzDecodeNPY mlp:FuzzLoad mlp:FuzzLoadPredictor \
	mlp/onnx:FuzzRead

test-fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; fn=$${t#*:}; \
		echo "fuzz $$pkg $$fn ($(FUZZ_RUNS) inputs)"; \
		$(GO) test -run '^$$' -fuzz "^$$fn\$$" -fuzztime $(FUZZ_RUNS)x ./$$pkg/ > /tmp/simdmlp-fuzz.log 2>&1 || \
			{ cat /tmp/simdmlp-fuzz.log; exit 1; }; \
	done

# Every float32 input of the scalar exp, sigmoid and tanh that the
# documented error bounds rest on: about 7 minutes on 2 cores, so not part
# of make test, which checks 4 million inputs evenly spread over each
# function's range (TestScalarSweep) and 800 000 drawn as the trainer
# draws them (TestScalarRandom).
test-exhaustive:
	SIMDMLP_EXHAUSTIVE=1 $(GO) test -count=1 -run '^TestScalarExhaustive$$' -v ./kernels/

test-bench:
	cd bench && $(GO) vet ./... && $(GO) test -count=1 ./... && \
		$(GO) test -count=1 -run '^$$' -bench . -benchtime 1x ./...

# The library's packages may import only these modules (the command's
# plotting and the benchmarks' peers stay out of a library user's build).
# The check is per package: kernels, optim, mlp and mnist get
# LIBRARY_MODULES; mlp/onnx alone may also import google.golang.org/protobuf
# (its wire format), so a program that never touches ONNX does not link it.
LIBRARY_MODULES := github.com/simdmlp/simdmlp github.com/klauspost/cpuid/v2 golang.org/x/sys
ONNX_MODULES    := $(LIBRARY_MODULES) google.golang.org/protobuf

vet:
	@files=$$(gofmt -l .); if [ -n "$$files" ]; then echo "not gofmt-formatted: $$files" >&2; exit 1; fi
	@pkgs=$$($(GO) list ./kernels/... ./optim/... ./mlp/... ./mnist/... | grep -v -e '/mlp/onnx$$' -e '/mlp/onnx/'); \
		extra=$$($(GO) list -deps -f '{{with .Module}}{{.Path}}{{end}}' $$pkgs | \
		sort -u | grep -vxF $(addprefix -e ,$(LIBRARY_MODULES))); \
		if [ -n "$$extra" ]; then echo "library packages import modules beyond $(LIBRARY_MODULES): $$extra" >&2; exit 1; fi
	@extra=$$($(GO) list -deps -f '{{with .Module}}{{.Path}}{{end}}' ./mlp/onnx/... | \
		sort -u | grep -vxF $(addprefix -e ,$(ONNX_MODULES))); \
		if [ -n "$$extra" ]; then echo "mlp/onnx imports modules beyond $(ONNX_MODULES): $$extra" >&2; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags purego ./...
	GOARCH=arm64 $(GO) vet ./...
	GOARCH=arm64 $(GO) vet -tags purego ./...
	cd bench && $(GO) vet ./...
	cd gen && $(GO) vet ./...

lint:
	@test -x $(GOBIN)/staticcheck || $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	$(GOBIN)/staticcheck ./...
	cd bench && $(GOBIN)/staticcheck ./...
	cd gen && $(GOBIN)/staticcheck ./...

# Regenerates the assembly in kernels/asm (and kernels/asm/alttiles, the
# tiles only the tests link) from the generators in gen/.
generate:
	$(GO) generate ./...

# Regenerates and fails when the committed assembly (kernels/asm and the
# packages under it) differs from what the generators write, or when AVX2
# output uses a register only EVEX can encode (avo may allocate one when
# more than 16 vectors are live).
check-generate: generate
	@git diff --exit-code --stat -- kernels/asm || \
		(echo "kernels/asm is stale: run make generate and commit the result" >&2; exit 1)
	@test -z "$$(git status --porcelain -- kernels/asm)" || \
		(git status --porcelain -- kernels/asm >&2; echo "kernels/asm has files the generators do not account for" >&2; exit 1)
	@if grep -nE '\b([XYZ](1[6-9]|2[0-9]|3[01])|K[0-7])\b|\bZ[0-9]+\b' $$(find kernels/asm -name '*avx2*.s'); then \
		echo "AVX2 assembly uses EVEX-only registers (above)" >&2; exit 1; fi

# Disassembles every WORD of the NEON assembly (the instructions Go's arm64
# assembler lacks, encoded by gen/neon) with llvm-mc and fails when one
# disagrees with the mnemonic in its comment. Debian's llvm package has it.
LLVM_MC ?= $(shell command -v llvm-mc-14 || command -v llvm-mc)
check-neon-words:
	@test -n "$(LLVM_MC)" || { echo "check-neon-words needs llvm-mc: apt-get install llvm" >&2; exit 1; }
	gen/neon/checkwords.sh $(LLVM_MC) $$(find kernels/asm -name '*_arm64.s')

# Kernel benchmarks, then the pure-Go side of bench/ (every kernel level
# against gonum, end to end: epoch, evaluate, predict, the step's phases),
# on one core, then the two-thread epochs and phases on two. The C and
# Python peers are `make bench-peers`; see bench/README.md.
bench:
	GOMAXPROCS=1 $(GO) test -run '^$$' -bench . -count $(BENCH_COUNT) ./kernels/ | tee bench-kernels.txt
	cd bench && GOMAXPROCS=1 $(GO) test -run '^$$' -bench . -count $(BENCH_COUNT) ./... | tee ../bench-peers.txt
	cd bench && GOMAXPROCS=2 $(GO) test -run '^$$' -bench '(EpochThreads|StepPhases)/impl=/batch=/threads=2' -count $(BENCH_COUNT) . | tee -a ../bench-peers.txt

# The peers, all in bench-peers.txt, compared with
# `benchstat -col /impl -ignore pkg bench-peers.txt` (the GoMLX peer is
# another package; bench/README.md explains):
# bench/ with OpenBLAS linked (build tag openblas: every Go benchmark, with
# impl=openblas-<core> beside the kernel levels and gonum) on one core,
# then the GEMMs and the epochs that have a threads=2 variant on both
# cores (kernel levels and OpenBLAS), then PyTorch and numpy. Each peer runs twice: once in the environment as it is, where
# OPENBLAS_CORETYPE may pin OpenBLAS to its AVX2 (Haswell) kernels, and
# once with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE removed for that one
# command, so OpenBLAS picks its own (AVX-512, SkylakeX/Cooperlake) kernels.
# The core that ran is in each result's name. bench-deps installs
# Debian's libopenblas-dev and python3-torch when missing. The GoMLX peer
# (bench/peers/gomlx, a module of its own, pinned to GoMLX v0.28.2 and
# compute v0.1.3) is built, vetted and tested first by gomlx-deps, so that
# a GoMLX that cannot be downloaded or built stops the run loudly before
# the long part; its benchmarks run last on one core.
BENCH_COUNT ?= 5
PEER_PYTHON ?= /usr/bin/python3
BENCHSTAT   ?= $(shell test -x $(GOBIN)/benchstat && echo $(GOBIN)/benchstat || echo "$(GO) run golang.org/x/perf/cmd/benchstat@latest")
OWN_CORE    := env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE

.PHONY: bench-peers bench-deps bench-openblas bench-torch

bench-peers: bench-deps ort-deps gomlx-deps
	cd bench && GOMAXPROCS=1 $(GO) test -tags openblas -run '^$$' -bench . -count $(BENCH_COUNT) . | tee ../bench-peers.txt
	cd bench && $(OWN_CORE) GOMAXPROCS=1 $(GO) test -tags openblas -run '^$$' -bench 'Sgemm/impl=openblas' -count $(BENCH_COUNT) . | tee -a ../bench-peers.txt
	cd bench && GOMAXPROCS=2 $(GO) test -tags openblas -run '^$$' -bench 'Sgemm/impl=/threads=2' -count $(BENCH_COUNT) . | tee -a ../bench-peers.txt
	cd bench && $(OWN_CORE) GOMAXPROCS=2 $(GO) test -tags openblas -run '^$$' -bench 'Sgemm/impl=openblas/threads=2' -count $(BENCH_COUNT) . | tee -a ../bench-peers.txt
	cd bench && GOMAXPROCS=2 $(GO) test -tags openblas -run '^$$' -bench 'EpochThreads/impl=/batch=/threads=2' -count $(BENCH_COUNT) . | tee -a ../bench-peers.txt
	$(PEER_PYTHON) bench/peers/torch_mlp.py -reps $(BENCH_COUNT) | tee -a bench-peers.txt
	$(OWN_CORE) $(PEER_PYTHON) bench/peers/torch_mlp.py -reps $(BENCH_COUNT) | tee -a bench-peers.txt
	$(PEER_PYTHON) bench/peers/numpy_mlp.py -reps $(BENCH_COUNT) | tee -a bench-peers.txt
	$(OWN_CORE) $(PEER_PYTHON) bench/peers/numpy_mlp.py -reps $(BENCH_COUNT) | tee -a bench-peers.txt
	$(ORT_PEER) | tee -a ../bench-peers.txt
	@$(GOMLX_PEER)
	$(BENCHSTAT) -col /impl -ignore pkg bench-peers.txt
	cd bench && $(GO) run ./cmd/peertable -o ../bench-peers.md -png ../bench-peers.png ../bench-peers.txt
	@echo "wrote bench-peers.md and bench-peers.png"

# GEMM only: kernel levels, gonum and OpenBLAS with both cores (also into
# bench-peers.txt, which `make clean` removes).
bench-openblas: bench-deps
	cd bench && GOMAXPROCS=1 $(GO) test -tags openblas -run '^$$' -bench Sgemm -count $(BENCH_COUNT) . | tee ../bench-peers.txt
	cd bench && $(OWN_CORE) GOMAXPROCS=1 $(GO) test -tags openblas -run '^$$' -bench 'Sgemm/impl=openblas' -count $(BENCH_COUNT) . | tee -a ../bench-peers.txt
	$(BENCHSTAT) -col /impl bench-peers.txt

# ONNX Runtime only (onnxruntime-node, one thread), beside the Predictor
# benchmarks it is compared with: the native model's, and the model read
# back from its ONNX export (the same code, so the same time). Appends to
# bench-peers.txt, so that it can complete a full run's table by hand
# (bench/README.md). ORT_PEER runs peers/ort_mlp.js through cmd/ortpeer,
# which exports the model and checks ONNX Runtime's outputs first.
ORT_PEER = cd bench && SIMDMLP_ORT_DIR="$(ORT_DIR)" $(GO) run ./cmd/ortpeer -reps $(BENCH_COUNT)

.PHONY: bench-ort
bench-ort: ort-deps
	cd bench && GOMAXPROCS=1 $(GO) test -run '^$$' -bench '^BenchmarkPredictor(One|Batch)(ONNX|Int8)?$$' -count $(BENCH_COUNT) . | tee -a ../bench-peers.txt
	$(ORT_PEER) | tee -a ../bench-peers.txt
	$(BENCHSTAT) -col /impl -filter '/impl:(avx512 OR avx2 OR neon OR onnxruntime)' bench-peers.txt

# GoMLX (bench/peers/gomlx): its pure-Go backend trains the tutorial's
# model for an epoch and predicts one sample, as impl=gomlx-go (its
# defaults) and impl=gomlx-go-sequential (GOMLX_BACKEND=go:ops_sequential).
# A module of its own, so neither the library nor bench/ depends on GoMLX,
# and not part of make test: its download is about 70 MB, and go vet of
# it needs the same download, so gomlx-deps vets it instead. GOEXPERIMENT=simd
# (its AVX-512/AVX2 matrix products) is set for these commands only; the
# benchmarks refuse to run on amd64 without it. GOMLX_PEER appends to
# bench-peers.txt only after the run succeeded (a pipe into tee would hide
# a failure), and says loudly when it did not.
GOMLX_DIR  := bench/peers/gomlx
GOMLX_LOUD  = echo '*** THE GOMLX PEER $(1): NO GOMLX ROWS. See bench/README.md ("GoMLX"). ***' >&2; exit 1
GOMLX_PEER  = out=$$(mktemp) && trap 'rm -f "$$out"' EXIT && \
	if (cd $(GOMLX_DIR) && GOEXPERIMENT=simd GOMAXPROCS=1 $(GO) test -run '^$$' -bench . -count $(BENCH_COUNT) .) >"$$out" 2>&1; \
	then cat "$$out"; cat "$$out" >> bench-peers.txt; \
	else cat "$$out"; $(call GOMLX_LOUD,FAILED); fi

.PHONY: gomlx-deps bench-gomlx
gomlx-deps:
	@echo "GoMLX peer: downloading, vetting and testing $(GOMLX_DIR) (GOEXPERIMENT=simd)"
	@cd $(GOMLX_DIR) && GOEXPERIMENT=simd $(GO) mod download && GOEXPERIMENT=simd $(GO) vet . && \
		GOEXPERIMENT=simd $(GO) test -count=1 . || { $(call GOMLX_LOUD,DID NOT DOWNLOAD$(comma) BUILD OR PASS ITS TESTS); }

# GoMLX beside the benchmarks it is compared with (our epoch and
# one-sample predictions, every level, one core). Appends to
# bench-peers.txt, as bench-ort does.
bench-gomlx: gomlx-deps
	cd bench && GOMAXPROCS=1 $(GO) test -run '^$$' -bench '^Benchmark(Epoch|PredictOne|PredictorOne)$$' -count $(BENCH_COUNT) . | tee -a ../bench-peers.txt
	@$(GOMLX_PEER)
	$(BENCHSTAT) -col /impl -ignore pkg -filter '/impl:(avx512 OR avx2 OR neon OR gomlx-go OR gomlx-go-sequential)' bench-peers.txt

# PyTorch and numpy only, both cores.
bench-torch: bench-deps
	$(PEER_PYTHON) bench/peers/torch_mlp.py -reps $(BENCH_COUNT) | tee bench-peers.txt
	$(OWN_CORE) $(PEER_PYTHON) bench/peers/torch_mlp.py -reps $(BENCH_COUNT) | tee -a bench-peers.txt
	$(PEER_PYTHON) bench/peers/numpy_mlp.py -reps $(BENCH_COUNT) | tee -a bench-peers.txt
	$(OWN_CORE) $(PEER_PYTHON) bench/peers/numpy_mlp.py -reps $(BENCH_COUNT) | tee -a bench-peers.txt
	$(BENCHSTAT) -col /impl bench-peers.txt

bench-deps:
	@missing=""; \
	for p in libopenblas-dev python3-torch python3-numpy; do \
		dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then exit 0; \
	elif command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
		echo "installing$$missing"; \
		apt-get install -y -qq $$missing || (apt-get update -qq && apt-get install -y -qq $$missing); \
	else \
		echo "the peer benchmarks need Debian's$$missing (apt-get install$$missing)"; exit 1; \
	fi

# The performance-regression gate (bench/README.md, "The regression
# gate"). A short suite of the kernels that matter (Sgemm on the trainer's
# shapes and squares 256 and 512, ReLU, one Adam step) on every level the
# CPU has, with the FMA peak of each vector level measured beside them
# (BenchmarkFMAPeak: a loop of nothing but independent FMAs, which no
# change to the kernels can slow); then, with GOMAXPROCS=2, the two-thread
# path (Sgemm on the batch-256 forward product and the 512 square, on the
# vector levels: the generic level's scalar loops are the ones a busy
# neighbour core slows most, by up to a quarter, and its one-thread
# figures already gate it) beside the two-thread peak; then bench's epoch
# benchmarks on the vector levels (batch 32 and 256 on one and two
# threads), which report their share of the FMA peak measured in their
# own process (peak-fraction), gated as such. GATE_ROUNDS rounds, each a process per suite that
# runs every benchmark GATE_COUNT times; the one-thread suite is pinned to
# each CPU in turn (taskset), since on a shared machine one core's
# neighbour can slow loads and stores by half for minutes while leaving
# the FMA peak alone. bench/cmd/gate turns every result into its cost in
# peak flops (time × the same round's peak) and compares the best of each
# side (-best): other work only ever slows a benchmark down, so the best of
# 30 is the figure it leaves alone. It fails when a best cost rose by more
# than GATE_THRESHOLD against this CPU kind's baseline, bench/testdata/gate/<vendor>-<family>-<model>.txt, which
# `make gate-baseline` writes; or when a level HOST_LEVELS names is
# missing. A CPU kind without a baseline of its own is compared with
# GATE_FALLBACK at GATE_FOREIGN_THRESHOLD (ratios to the peak shift from
# one microarchitecture to another) and told how to record its own.
GATE_BENCH     := ^BenchmarkFMAPeak$$/impl=/threads=1$$|^BenchmarkSgemm$$/impl=/^m=(32,n=100,k=784|784,n=100,k=32,tA|32,n=10,k=100|256,n=256,k=256|512,n=512,k=512)$$|^BenchmarkRelu$$/impl=/n=|^BenchmarkAdamStep$$/impl=/n=78500$$
GATE_BENCH_2   := ^BenchmarkFMAPeak$$/impl=/threads=2$$|^BenchmarkSgemm$$/impl=[^g]/threads=2$$/^m=(256,n=100,k=784|512,n=512,k=512)$$
GATE_BENCH_EPOCH := ^BenchmarkEpochThreads$$/impl=[^g]/batch=
GATE_ROUNDS    ?= 10
GATE_COUNT     ?= 3
GATE_BENCHTIME ?= 50ms
GATE_THRESHOLD ?= 20%
GATE_FOREIGN_THRESHOLD ?= 40%
GATE_CPU       := $(shell awk -F': *' '/^vendor_id/ { v = $$2 } /^cpu family/ { f = $$2 } /^model[[:space:]]*:/ { m = $$2 } \
	END { if (v != "") print v "-" f "-" m }' /proc/cpuinfo 2>/dev/null)
GATE_DIR       := bench/testdata/gate
GATE_BASELINE  ?= $(GATE_DIR)/$(or $(GATE_CPU),unknown-cpu).txt
GATE_FALLBACK  ?= $(GATE_DIR)/AuthenticAMD-26-2.txt
# $(call gate_suite,OUT): the suite's rounds into OUT, gathered in $$tmp
# (which the caller makes and removes) and renamed into place only when
# every round ran, so that a failed run leaves nothing half-written.
gate_suite = $(GO) test -c -o "$$tmp/kernels.test" ./kernels && \
	(cd bench && $(GO) test -c -o "$$tmp/bench.test" .) && \
	cpus=$$(nproc 2>/dev/null || echo 1); \
	for i in $$(seq $(GATE_ROUNDS)); do \
		pin=""; if [ "$$cpus" -gt 1 ] && command -v taskset >/dev/null; then pin="taskset -c $$((i % cpus))"; fi; \
		GOMAXPROCS=1 $$pin "$$tmp/kernels.test" -test.run '^$$' -test.bench '$(GATE_BENCH)' \
			-test.benchtime $(GATE_BENCHTIME) -test.count $(GATE_COUNT) || exit 1; \
		GOMAXPROCS=2 "$$tmp/kernels.test" -test.run '^$$' -test.bench '$(GATE_BENCH_2)' \
			-test.benchtime $(GATE_BENCHTIME) -test.count $(GATE_COUNT) || exit 1; \
		GOMAXPROCS=2 "$$tmp/bench.test" -test.run '^$$' -test.bench '$(GATE_BENCH_EPOCH)' \
			-test.benchtime 1x -test.count $(GATE_COUNT) || exit 1; \
	done > "$$tmp/rounds.txt" && cp "$$tmp/rounds.txt" $(1).tmp && mv $(1).tmp $(1)

.PHONY: test-gate gate-baseline

test-gate:
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	base=$(GATE_BASELINE); thr=$(GATE_THRESHOLD); \
	if [ ! -f "$$base" ]; then \
		echo "gate: no baseline for this CPU ($(GATE_CPU)): comparing with $(GATE_FALLBACK) at $(GATE_FOREIGN_THRESHOLD);" \
			"run 'make gate-baseline' on a quiet machine of this kind and commit $$base for the $(GATE_THRESHOLD) gate"; \
		base=$(GATE_FALLBACK); thr=$(GATE_FOREIGN_THRESHOLD); \
	fi && \
	$(call gate_suite,"$$tmp/run.txt") && \
	cd bench && $(GO) run ./cmd/gate -ratios -best -old "../$$base" -new "$$tmp/run.txt" \
		-threshold $$thr -levels '$(HOST_LEVELS)'

# Rewrites this CPU kind's baseline: run it with GATE_ROUNDS=20 on a quiet
# machine, review, commit, as part of any change that makes a kernel
# faster (the gate cannot see a later slowdown of a gain it never saw).
gate-baseline:
	@mkdir -p $(GATE_DIR) && tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	$(call gate_suite,$(GATE_BASELINE)) && \
	cd bench && $(GO) run ./cmd/gate -ratios -new "../$(GATE_BASELINE)" | grep -c peakflops/op | \
		xargs echo "peak-cost samples in $(GATE_BASELINE):"

# ONNX Runtime for Node.js (the onnxruntime-node package, whose CPU
# runtime ships inside it), for the ONNX interoperability tests and the
# ONNX Runtime benchmark (internal/ort, bench/cmd/ortpeer). ort-deps
# installs ORT_VERSION into ORT_DIR: $SIMDMLP_ORT_DIR when set, else the
# directory of the user cache that the tests install into themselves on
# first use (so without it they still run wherever npm is). The install
# script is skipped: it fetches optional GPU providers from outside the npm
# registry. .ci/run calls this with SIMDMLP_ORT_DIR set and exported.
ORT_VERSION := 1.30.0
ORT_DIR     ?= $(or $(SIMDMLP_ORT_DIR),$(or $(XDG_CACHE_HOME),$(HOME)/.cache)/simdmlp/ort-$(ORT_VERSION))

.PHONY: ort-deps
ort-deps:
	@have=$$(node -p "require('$(ORT_DIR)/node_modules/onnxruntime-node/package.json').version" 2>/dev/null); \
	if [ "$$have" = "$(ORT_VERSION)" ]; then exit 0; fi; \
	command -v npm >/dev/null || { echo "ort-deps needs node and npm (Debian: apt-get install nodejs npm)" >&2; exit 1; }; \
	echo "installing onnxruntime-node@$(ORT_VERSION) into $(ORT_DIR)"; \
	mkdir -p "$(ORT_DIR)" && npm install --prefix "$(ORT_DIR)" --ignore-scripts --no-audit --no-fund \
		--loglevel=error onnxruntime-node@$(ORT_VERSION)

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

# Builds the arm64 command and runs the arm64 kernel tests under qemu-user.
cross:
	GOARCH=arm64 $(GO) build -o bin/simdmlp-arm64 ./cmd/simdmlp
	GOARCH=arm64 $(GO) test -count=1 -exec '$(QEMU_ARM64)' ./kernels/... ./optim/...

clean:
	rm -rf bin bench-kernels.txt bench-peers.txt bench-peers.md bench-peers.png
