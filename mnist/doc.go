// Package mnist loads the Fashion-MNIST and classic MNIST data sets and
// splits data the way scikit-learn does.
//
// LoadFashion and LoadDigits find the files on the machine (in the directory
// the caller or $SIMDMLP_DATA names, which is then the only place looked in;
// otherwise in Debian's dataset-fashion-mnist package, the Keras cache in
// ~/.keras/datasets, or this package's own cache), verify them against their
// known shapes and pinned SHA-256 sums, and download them from Keras's
// mirror into the cache only when no copy exists anywhere. Downloads are
// atomic: a file appears under its final name only after it has been
// verified, and the temporary files of downloads that were killed are
// removed by the next download of the same file.
//
// ReadIDX and DecodeIDX read the IDX format of the original distributions,
// gzipped or raw. They trust nothing in a header: every size is checked
// against the bytes the file can actually hold before memory is allocated, so
// a damaged or hostile file yields an error, never a panic or a huge
// allocation.
//
// TrainTestSplit reproduces scikit-learn's train_test_split with an integer
// random_state bit for bit, on top of RandomState, a port of NumPy's legacy
// MT19937 generator.
//
// Errors are inspectable: errors.Is(err, ErrNotFound) when no copy of a data
// set exists and none could be downloaded, errors.Is(err, ErrCorrupt) when a
// file exists but is damaged, truncated or not the expected data set. Their
// messages name the file and say what to do.
package mnist
