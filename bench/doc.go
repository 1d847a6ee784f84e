// Package bench measures simdmlp against the libraries a Go user would
// otherwise reach for, in the same run and on the same data. It is a
// module of its own so that the library's users never download the peers.
//
// Its benchmarks name what ran as impl=<name>: every kernel level the CPU
// runs (kernels.Available, so new levels appear by themselves), "gonum",
// and, built with the tag openblas (cgo and Debian's libopenblas-dev),
// "openblas-<core>" for OpenBLAS's cblas_sgemm on one thread:
//
//   - BenchmarkSgemm/impl=<name>/m=..,n=..,k=..[,tA][,tB]: C = op(A)·op(B)
//     on the products of a training step of the tutorial's model and on
//     squares from 64 to 2048, with GFLOP/s;
//   - BenchmarkSgemm/impl=<name>/step: the five products of one batch-32
//     training step back to back;
//   - BenchmarkEpoch, BenchmarkEvaluate, BenchmarkPredictOne
//     /impl=<level>: the tutorial's model through package mlp, one epoch of
//     48000 samples with Adam, evaluation of 12000, one-sample latency.
//
// The scripts in peers/ run the same model and products in PyTorch and
// numpy and print the same names (impl=torch-<core>, impl=numpy-<core>),
// so one benchstat table holds everything. Run on one core, as the
// acceptance figures are quoted:
//
//	cd bench && GOMAXPROCS=1 go test -run '^$' -bench . -count 5 | tee go.txt
//	benchstat -col /impl go.txt
//
// or `make bench-peers` at the root for every peer; README.md explains.
package bench
