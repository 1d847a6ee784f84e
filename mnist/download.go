package mnist

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/simdmlp/simdmlp/internal/atomicfile"
)

// maxDownloadBytes stops a misbehaving server from filling the disk; the
// largest file Keras serves here is 26 MB.
const maxDownloadBytes = 512 << 20

// download fetches whatever dir lacks of the set. Each file lands under its
// final name only once verified, so an interrupted or rejected download
// leaves nothing behind.
func (s *setSpec) download(dir string, opts Options) error {
	w := opts.Progress
	if w == nil {
		w = os.Stderr
	}
	base := opts.BaseURL
	if base == "" {
		base = KerasBaseURL
	}
	if !strings.HasSuffix(base, "/") {
		base += "/"
	}
	client := opts.Client
	if client == nil {
		client = http.DefaultClient
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	fmt.Fprintf(w, "mnist: %s not found locally; downloading it into %s\n", s.title, dir)

	if s.npz != "" {
		return fetch(client, base+s.npz, dir, s.npz, w, func(_ string, sum []byte) error {
			if got := hex.EncodeToString(sum); s.npzSHA256 != "" && got != s.npzSHA256 {
				return fmt.Errorf("SHA-256 is %s, want %s (Keras's pin)", got, s.npzSHA256)
			}
			return nil
		})
	}
	// Labels first, as Keras orders them: the small files fail fast when
	// the server is wrong.
	for _, i := range []int{1, 0, 3, 2} {
		f := s.files[i]
		l, err := probe(s, dir)
		if err != nil {
			return err
		}
		if l.idx[i] != "" {
			continue // verified when the set is loaded
		}
		err = fetch(client, base+f.name+".gz", dir, f.name+".gz", w, func(tmp string, _ []byte) error {
			_, _, err := s.readChecked(tmp, f)
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// fetch downloads url into dir/name through an atomicfile temporary in dir,
// which verify inspects (given its path and SHA-256) before it is committed.
// The temporary is locked while written, so that the temporaries of
// downloads that died, even by kill -9, are removed by the next download of
// the same file, and those of live ones are left alone.
func fetch(client *http.Client, url, dir, name string, w io.Writer, verify func(tmp string, sum []byte) error) error {
	fmt.Fprintf(w, "Downloading data from %s\n", url)
	resp, err := client.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	if resp.ContentLength > maxDownloadBytes {
		return fmt.Errorf("GET %s: %d bytes is far too large", url, resp.ContentLength)
	}
	tmp, err := atomicfile.Create(filepath.Join(dir, name))
	if err != nil {
		return err
	}
	defer tmp.Abort() // does nothing after Commit

	h := sha256.New()
	p := newProgress(w, resp.ContentLength)
	n, err := io.Copy(io.MultiWriter(tmp, h, p), io.LimitReader(resp.Body, maxDownloadBytes+1))
	if err != nil {
		return fmt.Errorf("downloading %s: %w", url, err)
	}
	if n > maxDownloadBytes {
		return fmt.Errorf("downloading %s: more than %d bytes, far too large", url, maxDownloadBytes)
	}
	if resp.ContentLength >= 0 && n != resp.ContentLength {
		return fmt.Errorf("downloading %s: got %d of %d bytes", url, n, resp.ContentLength)
	}
	p.finish()
	if err := verify(tmp.Name(), h.Sum(nil)); err != nil {
		fault := err.Error()
		var ce *CorruptError
		if errors.As(err, &ce) {
			fault = ce.Fault
		}
		return corrupt(url, "download rejected, nothing was saved: "+fault+
			"; the server sent a damaged or different file (check the base URL, or try again)")
	}
	return tmp.Commit()
}

// progress draws a Keras-like bar. On a terminal it redraws in place as the
// percentage changes; elsewhere (logs, pipes) it writes only the final line.
type progress struct {
	w       io.Writer
	total   int64
	n       int64
	tty     bool
	start   time.Time
	lastPct int64
}

func newProgress(w io.Writer, total int64) *progress {
	p := &progress{w: w, total: total, start: time.Now(), lastPct: -1}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

func (p *progress) Write(b []byte) (int, error) {
	p.n += int64(len(b))
	if p.tty && p.total > 0 {
		if pct := p.n * 100 / p.total; pct != p.lastPct {
			p.lastPct = pct
			fmt.Fprint(p.w, "\r"+p.line())
		}
	}
	return len(b), nil
}

func (p *progress) finish() {
	if p.tty {
		fmt.Fprint(p.w, "\r")
	}
	fmt.Fprintln(p.w, p.line())
}

func (p *progress) line() string {
	const width = 30
	secs := time.Since(p.start).Seconds()
	if p.total <= 0 {
		return fmt.Sprintf("%d bytes %.1fs", p.n, secs)
	}
	filled := int(min(p.n, p.total) * width / p.total)
	bar := strings.Repeat("=", filled)
	if filled < width {
		bar += ">" + strings.Repeat(".", width-filled-1)
	}
	return fmt.Sprintf("%d/%d [%s] %3d%% %.1fs", p.n, p.total, bar, min(p.n, p.total)*100/p.total, secs)
}
