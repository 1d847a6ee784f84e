package mnist

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/simdmlp/simdmlp/internal/atomicfile"
)

// server serves files by name from a map and records the requests.
type server struct {
	*httptest.Server
	mu    sync.Mutex
	files map[string][]byte
	log   []string
	// serve, when set, replaces the default handler for one name.
	serve map[string]http.HandlerFunc
}

func newServer(t *testing.T, files map[string][]byte) *server {
	s := &server{files: files, serve: map[string]http.HandlerFunc{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/data/")
		s.mu.Lock()
		s.log = append(s.log, name)
		b, ok := s.files[name]
		h := s.serve[name]
		s.mu.Unlock()
		if h != nil {
			h(w, r)
			return
		}
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.Write(b)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *server) requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.log...)
}

func (s *server) url() string { return s.URL + "/data/" }

func fashionFiles(t *testing.T, s *synth) map[string][]byte {
	m := map[string][]byte{}
	for i, f := range fashion.files {
		m[f.name+".gz"] = gzipBytes(t, s.raw[i])
	}
	return m
}

// dirNames lists dir, hidden temporary files included.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

func TestDownloadFashion(t *testing.T) {
	s := newSynth(7, 3, 2)
	root := isolate(t, s.spec(fashion, true), nil)
	files := fashionFiles(t, s)
	srv := newServer(t, files)
	var progress bytes.Buffer
	train, test, err := LoadFashionWith(Options{BaseURL: srv.url(), Progress: &progress})
	if err != nil {
		t.Fatal(err)
	}
	if train.N != 7 || test.N != 3 || !bytes.Equal(train.Images, s.raw[0][16:]) {
		t.Fatalf("loaded %+v", train)
	}
	want := []string{"train-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz"}
	if got := srv.requests(); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("requests %v, want %v", got, want)
	}
	cache := filepath.Join(root, "cache", "simdmlp", "fashion-mnist")
	names := dirNames(t, cache)
	if len(names) != 4 {
		t.Errorf("cache holds %v, want exactly the four files", names)
	}
	for name, b := range files {
		got, err := os.ReadFile(filepath.Join(cache, name))
		if err != nil || !bytes.Equal(got, b) {
			t.Errorf("%s: cached copy differs (%v)", name, err)
		}
	}
	out := progress.String()
	for _, w := range want {
		n := len(files[w])
		line := strconv.Itoa(n) + "/" + strconv.Itoa(n) + " [" + strings.Repeat("=", 30) + "] 100%"
		if !strings.Contains(out, "Downloading data from "+srv.url()+w+"\n") || !strings.Contains(out, line) {
			t.Errorf("progress lacks the lines for %s:\n%s", w, out)
		}
	}
	if !strings.Contains(out, "Fashion-MNIST not found locally; downloading it into "+cache) {
		t.Errorf("progress does not say where the files go:\n%s", out)
	}
	// The next load finds the cache and asks the server nothing.
	if _, _, err := LoadFashionWith(Options{BaseURL: srv.url(), Progress: &progress}); err != nil {
		t.Fatal(err)
	}
	if n := len(srv.requests()); n != 4 {
		t.Errorf("second load made %d more requests", n-4)
	}
}

// A rejected file leaves nothing behind, the files already verified stay,
// and the next run fetches only what is missing.
func TestDownloadFashionCorrupt(t *testing.T) {
	s := newSynth(7, 3, 2)
	isolate(t, s.spec(fashion, true), nil)
	files := fashionFiles(t, s)
	good := files["t10k-images-idx3-ubyte.gz"]
	files["t10k-images-idx3-ubyte.gz"] = fashionFiles(t, newSynth(7, 3, 9))["t10k-images-idx3-ubyte.gz"]
	srv := newServer(t, files)
	cache := filepath.Join(t.TempDir(), "mycache")
	opts := Options{BaseURL: srv.url(), CacheDir: cache, Progress: &bytes.Buffer{}}
	_, _, err := LoadFashionWith(opts)
	if !errors.Is(err, ErrNotFound) || !errors.Is(err, ErrCorrupt) {
		t.Fatalf("err = %v, want ErrNotFound wrapping ErrCorrupt", err)
	}
	msg := err.Error()
	for _, want := range []string{srv.url() + "t10k-images-idx3-ubyte.gz", "download rejected, nothing was saved", "SHA-256"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
	names := dirNames(t, cache)
	if strings.Join(names, " ") != "t10k-labels-idx1-ubyte.gz train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz" {
		t.Errorf("cache holds %v, want the three verified files only", names)
	}

	srv.mu.Lock()
	files["t10k-images-idx3-ubyte.gz"] = good
	srv.mu.Unlock()
	if _, _, err := LoadFashionWith(opts); err != nil {
		t.Fatal(err)
	}
	if got := srv.requests(); len(got) != 5 || got[4] != "t10k-images-idx3-ubyte.gz" {
		t.Errorf("requests %v: the retry should fetch only the missing file", got)
	}
}

func TestDownloadFailures(t *testing.T) {
	s := newSynth(7, 3, 2)
	isolate(t, s.spec(fashion, true), nil)
	files := fashionFiles(t, s)
	srv := newServer(t, files)
	labels := files["train-labels-idx1-ubyte.gz"]
	for _, tc := range []struct {
		name string
		h    http.HandlerFunc
		want string
	}{
		{"404", http.NotFound, "404 Not Found"},
		{"truncated", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", strconv.Itoa(len(labels)))
			w.Write(labels[:len(labels)/2])
		}, "unexpected EOF"},
		{"not gzip nor IDX", func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte("<html>captive portal</html>"))
		}, "not an IDX file"},
	} {
		srv.mu.Lock()
		srv.serve["train-labels-idx1-ubyte.gz"] = tc.h
		srv.mu.Unlock()
		cache := filepath.Join(t.TempDir(), "c")
		_, _, err := LoadFashionWith(Options{BaseURL: srv.url(), CacheDir: cache, Progress: &bytes.Buffer{}})
		if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), tc.want) ||
			!strings.Contains(err.Error(), "train-labels-idx1-ubyte.gz") {
			t.Errorf("%s: err = %v, want ErrNotFound naming the file and containing %q", tc.name, err, tc.want)
		}
		if names := dirNames(t, cache); len(names) != 0 {
			t.Errorf("%s: cache holds %v after a failed download", tc.name, names)
		}
	}
}

// While a file is downloading only a hidden temporary file exists; the
// final name appears once the file is complete and verified.
func TestDownloadAtomicRename(t *testing.T) {
	s := newSynth(7, 3, 2)
	isolate(t, s.spec(fashion, true), nil)
	files := fashionFiles(t, s)
	srv := newServer(t, files)
	cache := filepath.Join(t.TempDir(), "c")
	body := files["train-labels-idx1-ubyte.gz"]
	seen := make(chan []string, 1)
	srv.serve["train-labels-idx1-ubyte.gz"] = func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body[:10])
		w.(http.Flusher).Flush()
		var names []string
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			es, _ := os.ReadDir(cache)
			names = names[:0]
			for _, e := range es {
				names = append(names, e.Name())
			}
			if len(names) > 0 {
				break
			}
		}
		seen <- names
		w.Write(body[10:])
	}
	if _, _, err := LoadFashionWith(Options{BaseURL: srv.url(), CacheDir: cache, Progress: &bytes.Buffer{}}); err != nil {
		t.Fatal(err)
	}
	names := <-seen
	prefix := atomicfile.TempPrefix(filepath.Join(cache, "train-labels-idx1-ubyte.gz"))
	if len(names) != 1 || !strings.HasPrefix(names[0], prefix) {
		t.Errorf("mid-download the cache held %v, want one hidden %s* file", names, prefix)
	}
	if names := dirNames(t, cache); len(names) != 4 {
		t.Errorf("after the download the cache holds %v", names)
	}
}

// A download killed outright (kill -9, a power cut) leaves its temporary
// file behind; the next download of the same file removes it. No lock is
// held on such a file, as the kernel drops a dead process's locks, which is
// how it is told from the temporary of a download still running.
func TestDownloadRemovesLeftovers(t *testing.T) {
	s := newSynth(7, 3, 2)
	isolate(t, s.spec(fashion, true), nil)
	srv := newServer(t, fashionFiles(t, s))
	cache := filepath.Join(t.TempDir(), "c")
	var leftovers []string
	for _, f := range fashion.files {
		// TempPrefix gives a name within the path's directory.
		name := atomicfile.TempPrefix(filepath.Join(cache, f.name+".gz")) + "123456"
		writeFile(t, filepath.Join(cache, name), []byte("the first bytes of a download that was killed"))
		leftovers = append(leftovers, name)
	}
	// Not a temporary of any file downloaded: left alone.
	other := atomicfile.TempPrefix(filepath.Join(cache, "notes.txt")) + "1"
	writeFile(t, filepath.Join(cache, other), nil)
	if names := dirNames(t, cache); len(names) != 5 {
		t.Fatalf("the cache holds %v before the download, want the five leftovers", names)
	}
	if _, _, err := LoadFashionWith(Options{BaseURL: srv.url(), CacheDir: cache, Progress: &bytes.Buffer{}}); err != nil {
		t.Fatal(err)
	}
	names := dirNames(t, cache)
	for _, l := range leftovers {
		if slices.Contains(names, l) {
			t.Errorf("leftover %s is still there after its file was downloaded: %v", l, names)
		}
	}
	if len(names) != 5 || !slices.Contains(names, other) {
		t.Errorf("the cache holds %v, want the four files and %s", names, other)
	}
}

// A download that is still running keeps its temporary file while another
// download of the same file starts beside it, and both finish.
func TestDownloadKeepsLiveTemporaries(t *testing.T) {
	s := newSynth(7, 3, 2)
	isolate(t, s.spec(fashion, true), nil)
	files := fashionFiles(t, s)
	srv := newServer(t, files)
	cache := filepath.Join(t.TempDir(), "c")
	body := files["train-labels-idx1-ubyte.gz"]
	started, release := make(chan struct{}), make(chan struct{})
	var firstDone atomic.Bool
	srv.serve["train-labels-idx1-ubyte.gz"] = func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		if !firstDone.Swap(true) {
			w.Write(body[:10])
			w.(http.Flusher).Flush()
			close(started)
			<-release
			w.Write(body[10:])
			return
		}
		w.Write(body)
	}
	opts := Options{BaseURL: srv.url(), CacheDir: cache, Progress: &bytes.Buffer{}}
	errc := make(chan error, 1)
	go func() {
		_, _, err := LoadFashionWith(opts)
		errc <- err
	}()
	<-started
	// The first download's temporary must exist before the second starts.
	prefix := atomicfile.TempPrefix(filepath.Join(cache, "train-labels-idx1-ubyte.gz"))
	var tmp string
	for deadline := time.Now().Add(5 * time.Second); tmp == "" && time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		for _, n := range dirNames(t, cache) {
			if strings.HasPrefix(n, prefix) {
				tmp = n
			}
		}
	}
	if tmp == "" {
		close(release)
		t.Fatalf("no temporary file appeared during the download")
	}
	if _, _, err := LoadFashionWith(opts); err != nil {
		t.Errorf("second download: %v", err)
	}
	if !slices.Contains(dirNames(t, cache), tmp) {
		t.Errorf("the second download removed %s, the temporary of a download still running", tmp)
	}
	close(release)
	if err := <-errc; err != nil {
		t.Errorf("first download: %v", err)
	}
	if names := dirNames(t, cache); len(names) != 4 {
		t.Errorf("after both downloads the cache holds %v", names)
	}
}

func TestDownloadProgressUnknownLength(t *testing.T) {
	s := newSynth(7, 3, 2)
	isolate(t, s.spec(fashion, true), nil)
	files := fashionFiles(t, s)
	srv := newServer(t, files)
	body := files["train-labels-idx1-ubyte.gz"]
	srv.serve["train-labels-idx1-ubyte.gz"] = func(w http.ResponseWriter, r *http.Request) {
		w.Write(body[:5])
		w.(http.Flusher).Flush() // forces chunked encoding: no length
		w.Write(body[5:])
	}
	var progress bytes.Buffer
	if _, _, err := LoadFashionWith(Options{BaseURL: srv.url(), CacheDir: t.TempDir(), Progress: &progress}); err != nil {
		t.Fatal(err)
	}
	if want := strconv.Itoa(len(body)) + " bytes "; !strings.Contains(progress.String(), want) {
		t.Errorf("progress %q lacks %q", progress.String(), want)
	}
}

func TestDownloadDigits(t *testing.T) {
	s := newSynth(6, 2, 1)
	npz := s.npz(t, 8)
	spec := s.spec(digits, false)
	spec.npzSHA256 = sha(npz)
	root := isolate(t, nil, spec)
	srv := newServer(t, map[string][]byte{"mnist.npz": append(bytes.Clone(npz[:100]), 0)})
	var progress bytes.Buffer
	opts := Options{BaseURL: srv.url(), Progress: &progress}
	_, _, err := LoadDigitsWith(opts)
	if !errors.Is(err, ErrNotFound) || !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "Keras's pin") {
		t.Fatalf("corrupt npz: %v", err)
	}
	cache := filepath.Join(root, "cache", "simdmlp", "mnist")
	if names := dirNames(t, cache); len(names) != 0 {
		t.Fatalf("cache holds %v after a rejected download", names)
	}
	srv.mu.Lock()
	srv.files["mnist.npz"] = npz
	srv.mu.Unlock()
	train, _, err := LoadDigitsWith(opts)
	if err != nil || train.N != 6 || train.Labels[0] != 1 {
		t.Fatalf("train %+v, err %v", train, err)
	}
	if names := dirNames(t, cache); len(names) != 1 || names[0] != "mnist.npz" {
		t.Errorf("cache holds %v", names)
	}
	if !strings.Contains(progress.String(), "Downloading data from "+srv.url()+"mnist.npz") {
		t.Errorf("progress: %q", progress.String())
	}
}
