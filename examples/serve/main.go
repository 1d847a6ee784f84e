// Command serve is a small HTTP JSON service around a trained model: an
// example of embedding mlp.Predictor in a server.
//
// Usage:
//
//	serve -model model.safetensors [-addr localhost:8080] [timeout flags]
//
// The model file is one written by simdmlp train -save or mlp.Save, or an
// int8 predictor file written by simdmlp quantize (mlp.LoadPredictor reads
// both).
//
// Endpoints:
//
//	POST /predict  {"pixels": [784 numbers]} → {"top": [{"class": 9, "label": "Ankle boot", "probability": 0.97}, …]}
//	GET  /healthz  → 200 "ok"
//
// The pixels are either floats in [0, 1], as the model was trained on, or
// integer intensities 0..255, which are divided by 255 as training did.
// The body must be exactly one JSON object (trailing whitespace is fine)
// of at most 1 MiB: a larger body is answered 413, trailing data or a
// second value 400. The reply lists the three highest-ranked classes,
// highest first; labels are Fashion-MNIST's when the model has ten
// outputs.
//
// Only a softmax output is a probability distribution, so only a model
// whose last layer is softmax is answered with "probability". Any other
// model (a "linear" last layer that outputs logits, say) is still served,
// since its ranking is meaningful, but each class carries a "score"
// instead, and the reply has a "note" naming the last layer's activation
// and saying that the scores are its raw outputs, not probabilities:
//
//	{"top": [{"class": 9, "label": "Ankle boot", "score": 6.38}, …], "note": "the model's last layer has activation \"linear\", …"}
//
// A model whose output is NaN or infinite for an input gets a 500 with an
// error that says so.
//
// No client can hold a connection for as long as it likes: a request's
// headers must arrive within -header-timeout and the whole request within
// -read-timeout (a body that stops or trickles is answered 408 or dropped),
// the reply must be taken within -write-timeout of the end of the headers,
// and an idle keep-alive connection is closed after -idle-timeout. Headers
// are limited to 16 KiB (net/http adds 4 KiB of slack; more is answered
// 431). The port is bound before "serving" is logged, so an address in use
// is an error, exit status 1.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"syscall"
)

// options are the command line's settings.
type options struct {
	model  string
	addr   string
	server serverConfig
}

// parseFlags reads the command line args (without the program name). It
// writes help, and any problem followed by the usage, to stderr; the error
// is flag.ErrHelp for -h.
func parseFlags(args []string, stderr io.Writer) (options, error) {
	o := options{server: defaultServerConfig()}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	// The back-quoted word in a usage string is the flag's argument name
	// in -h; other quotes must not be back quotes.
	fs.StringVar(&o.model, "model", "", "model `file` written by 'simdmlp train --save' or mlp.Save, or an int8 predictor file from 'simdmlp quantize' (required)")
	fs.StringVar(&o.addr, "addr", "localhost:8080", "`host:port` to listen on")
	fs.DurationVar(&o.server.ReadHeaderTimeout, "header-timeout", o.server.ReadHeaderTimeout, "longest wait for a request's headers")
	fs.DurationVar(&o.server.ReadTimeout, "read-timeout", o.server.ReadTimeout, "longest time to read a whole request, headers and body")
	fs.DurationVar(&o.server.WriteTimeout, "write-timeout", o.server.WriteTimeout, "longest time from the end of a request's headers to the end of its reply")
	fs.DurationVar(&o.server.IdleTimeout, "idle-timeout", o.server.IdleTimeout, "longest time a keep-alive connection may wait for its next request")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: serve -model file [flags]\n\nServes the model's predictions as JSON over HTTP.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return o, err // flag has printed the problem and the usage
	}
	var problem error
	switch {
	case o.model == "":
		problem = errors.New("-model is required")
	case fs.NArg() > 0:
		problem = fmt.Errorf("unexpected argument %q: serve takes flags only", fs.Arg(0))
	default:
		problem = o.server.check()
	}
	if problem != nil {
		fmt.Fprintln(stderr, "serve:", problem)
		fs.Usage()
	}
	return o, problem
}

func main() {
	o, err := parseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		os.Exit(2)
	}
	h, err := newHandler(o.model)
	if err != nil {
		fmt.Fprintln(os.Stderr, "serve:", err)
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	what := fmt.Sprintf("%s (%s)", o.model, h.describe())
	if err := run(ctx, o.addr, newServer(h, o.server), what, log.Printf); err != nil {
		fmt.Fprintln(os.Stderr, "serve:", err)
		os.Exit(1)
	}
}
