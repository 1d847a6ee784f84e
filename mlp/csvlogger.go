package mlp

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/simdmlp/simdmlp/internal/pyfmt"
)

// CSVLogger writes one line per epoch to a CSV file, as
// keras.callbacks.CSVLogger in Keras 2.14 with Python's csv module: a
// header "epoch" followed by the log keys in sorted order
// (epoch,accuracy,loss,val_accuracy,val_loss), then each epoch's number
// (from 0) and values, written as Python's repr writes floats
// (0.8500000238418579, 1e-05), with lines ended by "\r\n". A field that
// holds the separator, a quote or a line break is quoted, as csv does.
//
// As in Keras, when the first epoch's logs have no validation keys the
// columns val_<key> are added anyway and hold "NA"; so does any column
// whose key an epoch's logs lack. The keys are fixed at the first epoch
// this CSVLogger ever logs and kept for later Fits, as Keras keeps them.
//
// The file is created (or truncated) when training begins, and closed when
// it ends; an error creating it is Fit's error, before any epoch. With
// Append, the lines are added to an existing file, and the header is
// written only if the file was absent or empty. Every line is written to
// the file as soon as its epoch ends.
type CSVLogger struct {
	// Path is the file's name.
	Path string
	// Separator is the one-character field separator; "" means ",".
	Separator string
	// Append adds to an existing file instead of replacing it.
	Append bool

	f      *os.File
	sep    string
	header bool // the header is still to be written in this Fit
	keys   []string
	row    []byte
}

// OnTrainBegin opens the file.
func (c *CSVLogger) OnTrainBegin(*Training) error {
	c.closeFile()
	if c.Path == "" {
		return fmt.Errorf("CSVLogger: Path is empty")
	}
	c.sep = c.Separator
	if c.sep == "" {
		c.sep = ","
	}
	// Python's csv refuses a separator that is not one character; a
	// quote or a line break would make a file no reader splits back.
	if utf8.RuneCountInString(c.sep) != 1 || strings.ContainsAny(c.sep, "\"\r\n") {
		return fmt.Errorf("CSVLogger: Separator %q must be one character other than a quote or a line break", c.Separator)
	}
	flags := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	c.header = true
	if c.Append {
		flags = os.O_WRONLY | os.O_CREATE | os.O_APPEND
		// Keras reads the first line: a header is due only when
		// there is none, that is when the file is empty.
		if fi, err := os.Stat(c.Path); err == nil && fi.Size() > 0 {
			c.header = false
		}
	}
	f, err := os.OpenFile(c.Path, flags, 0o666)
	if err != nil {
		return fmt.Errorf("CSVLogger: %w", err)
	}
	c.f = f
	return nil
}

// OnEpochBegin does nothing.
func (c *CSVLogger) OnEpochBegin(*Training, int) error { return nil }

// OnEpochEnd writes the epoch's line (after the header, at the first).
func (c *CSVLogger) OnEpochEnd(_ *Training, epoch int, logs Logs) error {
	if c.f == nil {
		return fmt.Errorf("CSVLogger: the file is not open (OnTrainBegin was not called)")
	}
	if c.keys == nil {
		c.keys = make([]string, 0, 2*len(logs))
		for k := range logs {
			c.keys = append(c.keys, k)
		}
		slices.Sort(c.keys)
		// Keras adds the validation columns when the first epoch
		// has none, for a fit whose validation runs only on some
		// epochs.
		if !slices.ContainsFunc(c.keys, func(k string) bool { return strings.HasPrefix(k, "val_") }) {
			for _, k := range c.keys {
				c.keys = append(c.keys, "val_"+k)
			}
		}
	}
	b := c.row[:0]
	if c.header {
		b = c.appendField(b, "epoch")
		for _, k := range c.keys {
			b = append(b, c.sep...)
			b = c.appendField(b, k)
		}
		b = append(b, "\r\n"...)
	}
	start := len(b)
	b = strconv.AppendInt(b, int64(epoch), 10)
	b = c.quoteFrom(b, start)
	for _, k := range c.keys {
		b = append(b, c.sep...)
		start := len(b)
		if v, ok := logs[k]; ok {
			b = pyfmt.AppendRepr(b, v)
		} else {
			b = append(b, "NA"...)
		}
		b = c.quoteFrom(b, start)
	}
	b = append(b, "\r\n"...)
	c.row = b
	// One write per line, unbuffered: the line is in the file when the
	// epoch's callbacks return, as Keras's flush makes it.
	if _, err := c.f.Write(b); err != nil {
		return fmt.Errorf("CSVLogger: %w", err)
	}
	c.header = false
	return nil
}

// OnTrainEnd closes the file.
func (c *CSVLogger) OnTrainEnd(*Training, Logs) error {
	if c.f == nil {
		return nil
	}
	err := c.f.Close()
	c.f = nil
	if err != nil {
		return fmt.Errorf("CSVLogger: %w", err)
	}
	return nil
}

func (c *CSVLogger) closeFile() {
	if c.f != nil {
		c.f.Close() //nolint:errcheck // a file left open by a Fit that did not end normally
		c.f = nil
	}
}

// appendField appends s as Python's csv writes a field with
// QUOTE_MINIMAL: quoted, with quotes doubled, when it holds the separator,
// a quote or a line break.
func (c *CSVLogger) appendField(b []byte, s string) []byte {
	if !strings.Contains(s, c.sep) && !strings.ContainsAny(s, "\"\r\n") {
		return append(b, s...)
	}
	b = append(b, '"')
	b = append(b, strings.ReplaceAll(s, `"`, `""`)...)
	return append(b, '"')
}

// quoteFrom quotes the field b[start:], a number or NA, when it holds the
// separator, as csv would: only a separator such as "." or "N" does, and
// such a field holds no quote to double.
func (c *CSVLogger) quoteFrom(b []byte, start int) []byte {
	if !bytes.Contains(b[start:], []byte(c.sep)) {
		return b
	}
	b = append(b, 0)
	copy(b[start+1:], b[start:])
	b[start] = '"'
	return append(b, '"')
}
