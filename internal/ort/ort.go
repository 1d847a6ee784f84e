// Package ort runs ONNX models in ONNX Runtime, Microsoft's inference
// engine, through Node.js and the onnxruntime-node package, whose npm
// package ships the CPU runtime as a prebuilt library. The interoperability
// tests use it to check that what package onnx exports computes what
// simdmlp computes, and bench/ to time ONNX Runtime beside simdmlp.
//
// Node.js is a test-time dependency only: no library package imports this
// one. Find locates the runtime: in $SIMDMLP_ORT_DIR when set (a directory
// holding node_modules/onnxruntime-node, as `npm install --prefix DIR`
// leaves it), otherwise in the user cache, where it runs npm once to
// install it (npm install --ignore-scripts: the package's install script
// downloads optional GPU providers from a host outside the npm registry,
// and the CPU runtime does not need them).
package ort

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Version is the onnxruntime-node release the tests and benchmarks were
// written against; the Makefile's ORT_VERSION must say the same, which a
// test checks.
const Version = "1.30.0"

// EnvDir names a directory holding node_modules/onnxruntime-node. When
// set, Find uses only that directory and installs nothing.
const EnvDir = "SIMDMLP_ORT_DIR"

// installTimeout bounds the one npm install into the cache: the package is
// about 60 MB to download and 300 MB unpacked.
const installTimeout = 5 * time.Minute

// ErrUnavailable is wrapped by Find's errors when Node.js, npm or the
// package cannot be had on this machine: a reason to skip, not a bug.
var ErrUnavailable = errors.New("ONNX Runtime for Node.js is not available")

// Runtime is a located ONNX Runtime: the node binary and the directory
// whose node_modules holds onnxruntime-node.
type Runtime struct {
	Node string // path of the node executable
	Dir  string // directory holding node_modules/onnxruntime-node
	// Version is the installed package's version, which may differ from
	// the constant Version when $SIMDMLP_ORT_DIR points at another.
	Version string
}

// Find locates Node.js and onnxruntime-node, installing the package into
// the user cache on first use. Its result is computed once per process.
func Find() (*Runtime, error) { return find() }

var find = sync.OnceValues(func() (*Runtime, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, fmt.Errorf("%w: no node executable on PATH (Debian: apt-get install nodejs npm)", ErrUnavailable)
	}
	if dir := os.Getenv(EnvDir); dir != "" {
		// A directory the user named is used as it is: installing into it
		// could overwrite a setup made on purpose.
		return probe(node, dir, EnvDir+"="+dir)
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return nil, fmt.Errorf("%w: no user cache directory (%v); set %s", ErrUnavailable, err, EnvDir)
	}
	// The version is part of the directory's name so that a cache left by
	// an older release is never mistaken for this one.
	dir := filepath.Join(cache, "simdmlp", "ort-"+Version)
	if _, err := os.Stat(packageJSON(dir)); err != nil {
		if err := install(dir); err != nil {
			return nil, err
		}
	}
	return probe(node, dir, dir)
})

// packageJSON is the path of the installed package's manifest under dir.
func packageJSON(dir string) string {
	return filepath.Join(dir, "node_modules", "onnxruntime-node", "package.json")
}

// probe checks that dir holds the package and that node can load it
// (which loads the native runtime library), and reads its version.
func probe(node, dir, where string) (*Runtime, error) {
	b, err := os.ReadFile(packageJSON(dir))
	if err != nil {
		return nil, fmt.Errorf("%w: %s holds no node_modules/onnxruntime-node (install it with "+
			"npm install --prefix DIR --ignore-scripts onnxruntime-node@%s): %v", ErrUnavailable, where, Version, err)
	}
	var meta struct {
		Version string `json:"version"`
	}
	if err := json.Unmarshal(b, &meta); err != nil {
		return nil, fmt.Errorf("%s: %v", packageJSON(dir), err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	script := `const p = require.resolve('onnxruntime-node', {paths: [process.argv[1]]}); require(p);`
	if out, err := exec.CommandContext(ctx, node, "-e", script, abs).CombinedOutput(); err != nil {
		// The package is there but does not load: its native library does
		// not fit this system (another CPU, an old glibc or Node.js). That
		// is as much a missing tool as no package at all.
		return nil, fmt.Errorf("%w: node cannot load onnxruntime-node from %s: %v\n%s",
			ErrUnavailable, where, err, tail(out))
	}
	return &Runtime{Node: node, Dir: abs, Version: meta.Version}, nil
}

// install runs npm to put onnxruntime-node into dir. It installs into a
// fresh directory beside dir and renames it into place, so that two test
// processes installing at once (go test runs packages in parallel) never
// see each other's half-written tree: the second rename fails, and its
// loser uses the winner's copy.
func install(dir string) error {
	npm, err := exec.LookPath("npm")
	if err != nil {
		return fmt.Errorf("%w: %s is not installed and there is no npm to install it (Debian: apt-get install npm), "+
			"or set %s", ErrUnavailable, dir, EnvDir)
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "."+filepath.Base(dir)+".tmp-")
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	defer os.RemoveAll(tmp) // a no-op once renamed
	ctx, cancel := context.WithTimeout(context.Background(), installTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "install", "--prefix", tmp, "--ignore-scripts",
		"--no-audit", "--no-fund", "--loglevel=error", "onnxruntime-node@"+Version)
	if out, err := cmd.CombinedOutput(); err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("timed out after %v", installTimeout)
		}
		return fmt.Errorf("%w: npm install onnxruntime-node@%s failed: %v\n%s", ErrUnavailable, Version, err, tail(out))
	}
	// MkdirTemp made it private; the cache is as readable as any other.
	if err := os.Chmod(tmp, 0o755); err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		if _, statErr := os.Stat(packageJSON(dir)); statErr == nil {
			return nil // another process installed it first
		}
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return nil
}

// tail keeps the end of a command's output for an error message.
func tail(out []byte) string {
	s := strings.TrimSpace(string(out))
	if len(s) > 2000 {
		s = "…" + s[len(s)-2000:]
	}
	return s
}
