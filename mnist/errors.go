package mnist

import (
	"errors"
	"strings"
)

// ErrNotFound is matched (with errors.Is) by the error returned when no
// directory holds a data set and it could not be downloaded either.
var ErrNotFound = errors.New("mnist: data set not found")

// ErrCorrupt is matched (with errors.Is) by every error about a file that
// exists but is malformed, truncated, of an unsupported kind, or fails its
// checksum.
var ErrCorrupt = errors.New("mnist: corrupt data file")

// CorruptError describes a file that cannot be used. It matches ErrCorrupt.
type CorruptError struct {
	// File is the path (or URL) of the offending file; empty when the data
	// came from a reader with no name.
	File string
	// Fault says what is wrong, and where useful what to do about it.
	Fault string
}

// Error returns "mnist: <file>: <fault>".
func (e *CorruptError) Error() string {
	if e.File == "" {
		return "mnist: " + e.Fault
	}
	return "mnist: " + e.File + ": " + e.Fault
}

// Is reports whether target is ErrCorrupt.
func (e *CorruptError) Is(target error) bool { return target == ErrCorrupt }

// NotFoundError is returned when no searched directory holds a data set and
// downloading it was disabled or failed. It matches ErrNotFound.
type NotFoundError struct {
	// Dataset is the data set's name, e.g. "Fashion-MNIST".
	Dataset string
	// Searched lists the places looked in, in order, each with a note on
	// why it did not qualify.
	Searched []string
	// Download is why the download failed; nil if none was attempted.
	Download error
	// Hint says what to install or where to put the files.
	Hint string
}

// Error returns one line naming the places searched, the download failure
// if any, and the hint.
func (e *NotFoundError) Error() string {
	var b strings.Builder
	b.WriteString("mnist: ")
	b.WriteString(e.Dataset)
	b.WriteString(" not found")
	if len(e.Searched) > 0 {
		b.WriteString(" (searched ")
		b.WriteString(strings.Join(e.Searched, "; "))
		b.WriteString(")")
	}
	if e.Download != nil {
		b.WriteString(" and the download failed: ")
		b.WriteString(e.Download.Error())
	}
	if e.Hint != "" {
		b.WriteString(". ")
		b.WriteString(e.Hint)
	}
	return b.String()
}

// Is reports whether target is ErrNotFound.
func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

// Unwrap returns the download failure, so that errors.Is and errors.As see
// through to network errors.
func (e *NotFoundError) Unwrap() error { return e.Download }

func corrupt(file, fault string) error { return &CorruptError{File: file, Fault: fault} }
