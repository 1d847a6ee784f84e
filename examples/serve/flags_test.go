package main

import (
	"errors"
	"flag"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestFlagsHelp: -h names every flag's argument with one word, in
// particular -model's, whose usage mentions a command.
func TestFlagsHelp(t *testing.T) {
	var out strings.Builder
	_, err := parseFlags([]string{"-h"}, &out)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h: %v, want flag.ErrHelp", err)
	}
	help := out.String()
	for _, want := range []string{"Usage: serve -model file", "\n  -model file\n", "\n  -addr host:port\n",
		"\n  -read-timeout duration\n", "\n  -write-timeout duration\n", "\n  -idle-timeout duration\n", "\n  -header-timeout duration\n",
		"'simdmlp train --save'"} {
		if !strings.Contains(help, want) {
			t.Errorf("-h output lacks %q:\n%s", want, help)
		}
	}
	flagLine := regexp.MustCompile(`^  -\S+( \S+)?$`)
	for _, l := range strings.Split(help, "\n") {
		if strings.HasPrefix(l, "  -") && !flagLine.MatchString(l) {
			t.Errorf("-h shows a flag line %q: the argument name is not one word", l)
		}
	}
}

func TestFlagsErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "serve: -model is required"},
		{[]string{"-model", "m", "extra"}, `serve: unexpected argument "extra"`},
		{[]string{"-model", "m", "-bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"-model", "m", "-read-timeout", "soon"}, `invalid value "soon" for flag -read-timeout`},
		{[]string{"-model", "m", "-read-timeout", "0"}, "serve: -read-timeout = 0s, must be positive"},
		{[]string{"-model", "m", "-header-timeout", "-1s"}, "serve: -header-timeout = -1s, must be positive"},
		{[]string{"-model", "m", "-idle-timeout", "0"}, "serve: -idle-timeout = 0s, must be positive"},
		{[]string{"-model", "m", "-write-timeout", "0"}, "serve: -write-timeout = 0s, must be positive"},
		{[]string{"-model", "m", "-write-timeout", "1s"}, "serve: -write-timeout = 1s is shorter than -read-timeout = 10s"},
	} {
		var out strings.Builder
		_, err := parseFlags(c.args, &out)
		if err == nil || errors.Is(err, flag.ErrHelp) {
			t.Errorf("%q: error %v", c.args, err)
		}
		if !strings.Contains(out.String(), c.want) || !strings.Contains(out.String(), "Usage: serve") {
			t.Errorf("%q: output\n%s\nwant %q and the usage", c.args, out.String(), c.want)
		}
	}
}

func TestFlagsOK(t *testing.T) {
	var out strings.Builder
	o, err := parseFlags([]string{"-model", "m.safetensors", "-addr", ":9000", "-read-timeout", "2s", "-write-timeout", "3s", "-idle-timeout", "4s", "-header-timeout", "1s"}, &out)
	if err != nil || out.Len() > 0 {
		t.Fatalf("%v, output %q", err, out.String())
	}
	want := options{model: "m.safetensors", addr: ":9000", server: serverConfig{
		ReadHeaderTimeout: time.Second, ReadTimeout: 2 * time.Second, WriteTimeout: 3 * time.Second, IdleTimeout: 4 * time.Second,
		MaxHeaderBytes: defaultServerConfig().MaxHeaderBytes,
	}}
	if o != want {
		t.Errorf("options %+v, want %+v", o, want)
	}
	o, err = parseFlags([]string{"-model", "m"}, &out)
	if err != nil || o.addr != "localhost:8080" || o.server != defaultServerConfig() || defaultServerConfig().check() != nil {
		t.Errorf("defaults: %+v, %v; check %v", o, err, defaultServerConfig().check())
	}
}
