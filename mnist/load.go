package mnist

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// KerasBaseURL is where Keras downloads its data sets from, and so where
// LoadFashion and LoadDigits download from by default.
const KerasBaseURL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"

// EnvDataDir names the environment variable that, when set and not empty,
// names the data directory for loads not given one (Options.Dir, or the dir
// argument of LoadFashion and LoadDigits). Like a given directory it is the
// only place looked in: if it lacks the data, loading fails with an error
// naming it, rather than searching elsewhere or downloading.
const EnvDataDir = "SIMDMLP_DATA"

// Options tunes LoadFashionWith and LoadDigitsWith. The zero value searches
// the usual places and downloads, with progress on os.Stderr.
type Options struct {
	// Dir, when set, is the only directory looked in, and nothing is
	// downloaded. When empty, $SIMDMLP_DATA (EnvDataDir) takes its place
	// if set; only when both are empty are the usual places searched.
	Dir string
	// BaseURL replaces KerasBaseURL as the download location.
	BaseURL string
	// CacheDir replaces the directory downloads are stored in (and which
	// is searched last): by default os.UserCacheDir()/simdmlp/fashion-mnist
	// or .../simdmlp/mnist. Give the two data sets different directories:
	// their IDX files have the same names.
	CacheDir string
	// Progress receives download messages and progress bars; nil means
	// os.Stderr, io.Discard silences them. Bars are redrawn in place only
	// on a terminal; elsewhere one line is written per finished file.
	Progress io.Writer
	// NoDownload makes a search that finds nothing return an ErrNotFound
	// error instead of downloading.
	NoDownload bool
	// Client makes the download requests; nil means http.DefaultClient.
	Client *http.Client
}

// idxSpec is one of a data set's four IDX files.
type idxSpec struct {
	name   string // without ".gz"
	dims   []int
	sha256 string // hex SHA-256 of the decompressed content; "" if unpinned
}

// setSpec is everything the loader knows about a data set. Tests swap the
// package's specs for small synthetic ones.
type setSpec struct {
	title  string
	subdir string // under ~/.keras/datasets for IDX files, and under the cache
	// files are train images, train labels, test images, test labels.
	files [4]idxSpec
	// system lists directories that OS packages install the set into.
	system []string
	// npz is the name of Keras's single-file copy, kept directly in
	// ~/.keras/datasets; "" if Keras has none. npzSHA256 pins the file.
	npz       string
	npzSHA256 string
	// foreign maps the decompressed SHA-256 of files that are known not to
	// belong to this set to what they are.
	foreign map[string]string
	hint    string
}

const (
	fashionTrainImages = "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"
	fashionTrainLabels = "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"
	fashionTestImages  = "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"
	fashionTestLabels  = "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"
	// digitsNPZ is the file_hash in Keras's keras/src/datasets/mnist.py.
	digitsNPZ = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
)

var fashion = &setSpec{
	title:  "Fashion-MNIST",
	subdir: "fashion-mnist",
	files: [4]idxSpec{
		{"train-images-idx3-ubyte", []int{60000, 28, 28}, fashionTrainImages},
		{"train-labels-idx1-ubyte", []int{60000}, fashionTrainLabels},
		{"t10k-images-idx3-ubyte", []int{10000, 28, 28}, fashionTestImages},
		{"t10k-labels-idx1-ubyte", []int{10000}, fashionTestLabels},
	},
	system: []string{"/usr/share/datasets/fashion-mnist"},
	hint: "Install it with `sudo apt-get install dataset-fashion-mnist`, or put " +
		"train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and " +
		"t10k-labels-idx1-ubyte (each raw or .gz) in a directory and set " + EnvDataDir + " to it",
}

var digits = &setSpec{
	title:  "MNIST",
	subdir: "mnist",
	files: [4]idxSpec{
		{"train-images-idx3-ubyte", []int{60000, 28, 28}, ""},
		{"train-labels-idx1-ubyte", []int{60000}, ""},
		{"t10k-images-idx3-ubyte", []int{10000, 28, 28}, ""},
		{"t10k-labels-idx1-ubyte", []int{10000}, ""},
	},
	npz:       "mnist.npz",
	npzSHA256: digitsNPZ,
	foreign: map[string]string{
		fashionTrainImages: "Fashion-MNIST's train-images-idx3-ubyte",
		fashionTrainLabels: "Fashion-MNIST's train-labels-idx1-ubyte",
		fashionTestImages:  "Fashion-MNIST's t10k-images-idx3-ubyte",
		fashionTestLabels:  "Fashion-MNIST's t10k-labels-idx1-ubyte",
	},
	hint: "There is no Debian package for classic MNIST: put mnist.npz (from " + KerasBaseURL +
		"mnist.npz) or train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte " +
		"and t10k-labels-idx1-ubyte (each raw or .gz) in a directory and set " + EnvDataDir +
		" to it, or put mnist.npz in ~/.keras/datasets",
}

// LoadFashion loads Fashion-MNIST: 60000 training and 10000 test images of
// 28×28 pixels in ten classes (see FashionClasses).
//
// With dir set it reads only that directory, and downloads nothing; so
// does it with dir == "" and $SIMDMLP_DATA set to a directory. A directory
// given either way that lacks a file is an error matching ErrNotFound, not
// a reason to look elsewhere. Otherwise it searches, in order:
// /usr/share/datasets/fashion-mnist (Debian's package dataset-fashion-mnist);
// ~/.keras/datasets/fashion-mnist (Keras's cache);
// os.UserCacheDir()/simdmlp/fashion-mnist. The first directory holding all
// four files (train-images-idx3-ubyte, train-labels-idx1-ubyte,
// t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, each raw or .gz) is used.
// If none does, the files are downloaded from KerasBaseURL into the last
// directory, with progress on os.Stderr; see LoadFashionWith for control.
//
// Every file is verified: its IDX header must give the file's known shape
// before any of its data is decompressed (so a file claiming more holds up
// nothing), and its decompressed content must match a pinned SHA-256 (so a
// recompressed copy passes and a damaged or foreign one fails). A directory
// whose files fail is an error (matching ErrCorrupt) saying what to do, not
// a reason to look further; when nothing is found the error matches
// ErrNotFound and says what to install.
func LoadFashion(dir string) (train, test *Dataset, err error) {
	return LoadFashionWith(Options{Dir: dir})
}

// LoadFashionWith is LoadFashion with options: a download location, a cache
// directory, where progress goes, or no download at all.
func LoadFashionWith(opts Options) (train, test *Dataset, err error) {
	return load(fashion, opts)
}

// LoadDigits loads classic MNIST, the handwritten digits: 60000 training and
// 10000 test images of 28×28 pixels, labels 0..9.
//
// With dir set, or dir == "" and $SIMDMLP_DATA set, it reads only that
// directory, as LoadFashion does. Otherwise it searches, in order:
// ~/.keras/datasets (where Keras keeps mnist.npz);
// os.UserCacheDir()/simdmlp/mnist. There is no Debian package for classic
// MNIST, so no system directory is searched. A directory qualifies if it
// holds mnist.npz, Keras's copy, or the four IDX files (named as for
// LoadFashion, raw or .gz); mnist.npz is preferred when both are present.
// If none qualifies, mnist.npz is downloaded from KerasBaseURL into the
// last directory.
//
// mnist.npz is verified against the SHA-256 that Keras pins for the whole
// file. The IDX files cannot be pinned: the original distribution publishes
// no checksums of their content, and copies in circulation differ in
// compression. They are checked instead for shape (60000×28×28 and
// 10000×28×28 images, 60000 and 10000 labels; the header is checked before
// the data is read), labels in 0..9, and for not being Fashion-MNIST, whose
// files have the same names.
func LoadDigits(dir string) (train, test *Dataset, err error) {
	return LoadDigitsWith(Options{Dir: dir})
}

// LoadDigitsWith is LoadDigits with options; see Options.
func LoadDigitsWith(opts Options) (train, test *Dataset, err error) {
	return load(digits, opts)
}

// layout is what one directory holds of a data set.
type layout struct {
	npz     string    // path of the npz, or ""
	idx     [4]string // paths of the IDX files, "" where missing
	missing []string
}

func (l *layout) complete() bool { return l.npz != "" || len(l.missing) == 0 }
func (l *layout) empty() bool    { return l.npz == "" && len(l.missing) == len(l.idx) }

// probe looks at what dir holds, without reading any file.
func probe(s *setSpec, dir string) (*layout, error) {
	l := &layout{}
	if st, err := os.Stat(dir); err == nil && !st.IsDir() {
		for _, f := range s.files {
			l.missing = append(l.missing, f.name+"[.gz]")
		}
		return l, nil
	}
	if s.npz != "" {
		p := filepath.Join(dir, s.npz)
		ok, err := isFile(p)
		if err != nil {
			return nil, err
		}
		if ok {
			l.npz = p
		}
	}
	for i, f := range s.files {
		for _, name := range []string{f.name, f.name + ".gz"} {
			p := filepath.Join(dir, name)
			ok, err := isFile(p)
			if err != nil {
				return nil, err
			}
			if ok {
				l.idx[i] = p
				break
			}
		}
		if l.idx[i] == "" {
			l.missing = append(l.missing, f.name+"[.gz]")
		}
	}
	return l, nil
}

func isFile(p string) (bool, error) {
	st, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("mnist: %w", err)
	}
	return st.Mode().IsRegular(), nil
}

// candidate is a directory to search and how to describe it.
type candidate struct {
	dir  string
	note string // set when dir is unusable before probing
}

// candidates lists the places searched when no directory is given; the
// first, $SIMDMLP_DATA, is listed only to say that it is unset.
func (s *setSpec) candidates(cache string, cacheErr error) []candidate {
	cs := []candidate{{dir: "$" + EnvDataDir, note: "unset"}}
	for _, d := range s.system {
		cs = append(cs, candidate{dir: d})
	}
	if home, err := os.UserHomeDir(); err == nil {
		d := filepath.Join(home, ".keras", "datasets")
		if s.npz == "" {
			d = filepath.Join(d, s.subdir)
		}
		cs = append(cs, candidate{dir: d})
	} else {
		cs = append(cs, candidate{dir: "~/.keras/datasets", note: "no home directory"})
	}
	if cacheErr == nil {
		cs = append(cs, candidate{dir: cache})
	} else {
		cs = append(cs, candidate{dir: "cache directory", note: cacheErr.Error()})
	}
	return cs
}

func (s *setSpec) cacheDir(opts Options) (string, error) {
	if opts.CacheDir != "" {
		return opts.CacheDir, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "simdmlp", s.subdir), nil
}

func load(s *setSpec, opts Options) (train, test *Dataset, err error) {
	// A directory the user names is used or is an error: quietly loading
	// another copy instead would hide a mistake in the name.
	dir, label := opts.Dir, ""
	if dir == "" {
		if d := os.Getenv(EnvDataDir); d != "" {
			dir, label = d, "$"+EnvDataDir+"="
		}
	}
	if dir != "" {
		l, err := probe(s, dir)
		if err != nil {
			return nil, nil, err
		}
		if !l.complete() {
			nf := &NotFoundError{Dataset: s.title, Searched: []string{label + describe(dir, l)}, Hint: s.hint}
			if label != "" {
				nf.Hint = "While $" + EnvDataDir + " is set it is the only directory looked in and nothing is downloaded: " +
					"put the files there, or unset it. " + s.hint
			}
			return nil, nil, nf
		}
		return s.loadLayout(l, s.remedy(dir, false, false))
	}

	cache, cacheErr := s.cacheDir(opts)
	canDownload := !opts.NoDownload && cacheErr == nil
	var searched []string
	for _, c := range s.candidates(cache, cacheErr) {
		if c.note != "" {
			searched = append(searched, c.dir+" ("+c.note+")")
			continue
		}
		l, err := probe(s, c.dir)
		if err != nil {
			return nil, nil, err
		}
		if l.complete() {
			return s.loadLayout(l, s.remedy(c.dir, canDownload, cacheErr == nil && c.dir == cache))
		}
		searched = append(searched, describe(c.dir, l))
	}

	nf := &NotFoundError{Dataset: s.title, Searched: searched, Hint: s.hint}
	if opts.NoDownload {
		return nil, nil, nf
	}
	if cacheErr != nil {
		nf.Download = fmt.Errorf("no cache directory to download into: %w", cacheErr)
		return nil, nil, nf
	}
	if err := s.download(cache, opts); err != nil {
		nf.Download = err
		return nil, nil, nf
	}
	l, err := probe(s, cache)
	if err != nil {
		return nil, nil, err
	}
	if !l.complete() {
		nf.Download = fmt.Errorf("%s still lacks %s after downloading", cache, strings.Join(l.missing, ", "))
		return nil, nil, nf
	}
	return s.loadLayout(l, s.remedy(cache, true, true))
}

// remedy says what to do about a damaged file in dir, and promises only
// what the next load will do. Files of an OS package are reinstalled. Any
// other can be replaced; deleting it helps only in a searched directory
// when downloads are possible (download): the next load then looks further
// and, failing that, downloads, so a fresh copy is sure to come where dir is
// the directory downloads go to (isCache). A directory the user named is
// never searched past nor downloaded into.
func (s *setSpec) remedy(dir string, download, isCache bool) string {
	switch {
	case slices.Contains(s.system, filepath.Clean(dir)):
		return "reinstall the package: sudo apt-get install --reinstall dataset-" + s.subdir
	case download && isCache:
		return "replace the file with a good copy, or delete it so that a fresh one is downloaded"
	case download:
		return "replace the file with a good copy, or delete it so that another copy is used or a fresh one downloaded"
	}
	return "replace the file with a good copy"
}

func describe(dir string, l *layout) string {
	switch {
	case l.empty():
		st, err := os.Stat(dir)
		if err != nil {
			return dir + " (no such directory)"
		}
		if !st.IsDir() {
			return dir + " (not a directory)"
		}
		return dir + " (no data files)"
	default:
		return dir + " (incomplete: lacks " + strings.Join(l.missing, ", ") + ")"
	}
}

// loadLayout reads what l found; fix is the remedy appended to the message
// of a damaged file (see remedy).
func (s *setSpec) loadLayout(l *layout, fix string) (train, test *Dataset, err error) {
	if l.npz != "" {
		return s.loadNPZ(l.npz, fix)
	}
	var (
		dims [4][]int
		data [4][]uint8
		errs [4]error
		wg   sync.WaitGroup
	)
	// The files decompress independently; the images dominate, so reading
	// them side by side roughly halves the wall time on two cores.
	for i := range l.idx {
		wg.Go(func() {
			dims[i], data[i], errs[i] = s.readIDX(l.idx[i], s.files[i], fix)
		})
	}
	wg.Wait()
	for _, e := range errs {
		if e != nil {
			return nil, nil, e
		}
	}
	if train, err = newDataset(l.idx[1], dims[0], data[0], dims[1], data[1]); err != nil {
		return nil, nil, err
	}
	if test, err = newDataset(l.idx[3], dims[2], data[2], dims[3], data[3]); err != nil {
		return nil, nil, err
	}
	return train, test, nil
}

// readIDX reads one IDX file and checks it against its spec; fix is
// appended to the message of a damaged file.
func (s *setSpec) readIDX(path string, f idxSpec, fix string) ([]int, []uint8, error) {
	dims, data, err := s.readChecked(path, f)
	var ce *CorruptError
	if errors.As(err, &ce) && fix != "" {
		ce.Fault += "; " + fix
	}
	if err != nil {
		return nil, nil, err
	}
	return dims, data, nil
}

// readChecked reads the IDX file at path and checks it against f: its
// header before any data is read, then its content. The expected shape
// bounds all that is decompressed and allocated, whatever the header
// claims.
func (s *setSpec) readChecked(path string, f idxSpec) ([]int, []uint8, error) {
	dims, data, sum, err := readIDXFile(path, true, func(dims []int) error { return s.checkShape(path, f, dims) })
	if err != nil {
		return nil, nil, err
	}
	digest := hex.EncodeToString(sum)
	if err := s.checkForeign(path, digest); err != nil {
		return nil, nil, err
	}
	if err := s.checkSum(path, f, digest); err != nil {
		return nil, nil, err
	}
	return dims, data, nil
}

// checkShape compares an IDX header's dimensions with the file's shape.
func (s *setSpec) checkShape(path string, f idxSpec, dims []int) error {
	if !slices.Equal(dims, f.dims) {
		return corrupt(path, fmt.Sprintf("has shape %v, want %v for %s's %s", dims, f.dims, s.title, f.name))
	}
	return nil
}

// checkSum compares a decoded file's digest with its pin; the message says
// what the file probably is.
func (s *setSpec) checkSum(path string, f idxSpec, sum string) error {
	if f.sha256 != "" && sum != f.sha256 {
		return corrupt(path, fmt.Sprintf("SHA-256 of the decompressed content is %s, want %s: the file is damaged "+
			"or is not %s's %s (classic MNIST uses the same file names)", sum, f.sha256, s.title, f.name))
	}
	return nil
}

// checkForeign reports a file that is known to belong to another data set.
func (s *setSpec) checkForeign(path, sum string) error {
	if what, ok := s.foreign[sum]; ok {
		return corrupt(path, "this is "+what+", not "+s.title+"; keep the two data sets in separate directories")
	}
	return nil
}

// maxNPZBytes bounds the size of an npz; Keras's is 11 MB. A pinned npz is
// read into memory only once its SHA-256 matches.
const maxNPZBytes = 1 << 30

func (s *setSpec) loadNPZ(path, fix string) (train, test *Dataset, err error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, nil, fmt.Errorf("mnist: %w", err)
	}
	if st.Size() > maxNPZBytes {
		return nil, nil, corrupt(path, fmt.Sprintf("%d bytes is far too large for %s", st.Size(), s.npz))
	}
	pinErr := func(sum []byte) error {
		if s.npzSHA256 == "" || hex.EncodeToString(sum) == s.npzSHA256 {
			return nil
		}
		return corrupt(path, fmt.Sprintf("SHA-256 is %x, want %s (Keras's pin): the file is damaged or "+
			"not Keras's %s; %s", sum, s.npzSHA256, s.npz, fix))
	}
	// A pinned file is hashed as a stream first, so that a wrong one, of
	// whatever size, is rejected without being held in memory.
	if s.npzSHA256 != "" {
		f, err := os.Open(path)
		if err != nil {
			return nil, nil, fmt.Errorf("mnist: %w", err)
		}
		h := sha256.New()
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			return nil, nil, fmt.Errorf("mnist: reading %s: %w", path, err)
		}
		if err := pinErr(h.Sum(nil)); err != nil {
			return nil, nil, err
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("mnist: %w", err)
	}
	// Again on the bytes decoded, in case the file changed in between.
	if sum := sha256.Sum256(b); pinErr(sum[:]) != nil {
		return nil, nil, pinErr(sum[:])
	}
	names := []string{"x_train", "y_train", "x_test", "y_test"}
	arrs, err := readNPZ(path, b, names)
	if err != nil {
		return nil, nil, err
	}
	for i, n := range names {
		if !slices.Equal(arrs[n].shape, s.files[i].dims) {
			return nil, nil, corrupt(path+": "+n+".npy", fmt.Sprintf("has shape %v, want %v", arrs[n].shape, s.files[i].dims))
		}
	}
	x, y := arrs["x_train"], arrs["y_train"]
	if train, err = newDataset(path+": y_train.npy", x.shape, x.data, y.shape, y.data); err != nil {
		return nil, nil, err
	}
	x, y = arrs["x_test"], arrs["y_test"]
	if test, err = newDataset(path+": y_test.npy", x.shape, x.data, y.shape, y.data); err != nil {
		return nil, nil, err
	}
	return train, test, nil
}
