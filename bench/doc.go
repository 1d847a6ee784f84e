// Package bench measures simdmlp against the libraries a Go user would
// otherwise reach for, in the same run and on the same data. It is a
// module of its own so that the library's users never download the peers.
//
// Run the GEMM comparison on one core, as the acceptance figures are
// quoted:
//
//	cd bench && GOMAXPROCS=1 go test -run '^$' -bench Sgemm -count 5 | tee sgemm.txt
//	benchstat -col /impl sgemm.txt
package bench
