package mlp

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"time"
)

// Verbosity selects what Fit and EvaluateWith print, as Keras's verbose.
// It is a string so that Keras's spellings are its literals: "0" (silent),
// "1" (the bar), "2" (one line per epoch) and "auto". An integer literal
// such as Verbose: 1 does not compile, so a program ported from Keras
// cannot silently mean something else than it says. The zero value ""
// is Keras's default, "auto", which is the bar.
type Verbosity string

// The named levels. VerboseAuto is the zero value.
const (
	VerboseAuto   Verbosity = ""  // Keras's "auto": the progress bar
	VerboseSilent Verbosity = "0" // verbose=0: nothing
	VerboseBar    Verbosity = "1" // verbose=1: a progress bar redrawn in place
	VerboseEpoch  Verbosity = "2" // verbose=2: one line per epoch
)

// String returns Keras's spelling: "auto", "0", "1" or "2".
func (v Verbosity) String() string {
	if v == VerboseAuto {
		return "auto"
	}
	return string(v)
}

// mode resolves "auto" to the bar; an unknown value resolves to itself,
// which check rejects.
func (v Verbosity) mode() Verbosity {
	if v == VerboseAuto || v == "auto" {
		return VerboseBar
	}
	return v
}

// check returns an error for a value that is none of Keras's.
func (v Verbosity) check(what string) error {
	switch v.mode() {
	case VerboseSilent, VerboseBar, VerboseEpoch:
		return nil
	}
	return fmt.Errorf("mlp: %s: Verbose = %q; Keras's values are \"0\" (silent), \"1\" (bar), \"2\" (one line per epoch) and \"auto\"", what, string(v))
}

// metricValue is one named value shown on a progress line.
type metricValue struct {
	name string
	v    float64
}

// progbar reproduces keras.utils.Progbar (TF-Keras 2.14) with every value
// treated as stateful, which is how fit and evaluate use it. It formats
// into a reused buffer so that redraws allocate nothing.
type progbar struct {
	w       io.Writer
	now     func() time.Time
	target  int
	verbose Verbosity

	start          time.Time
	lastUpdate     time.Time
	updated        bool
	totalWidth     int
	afterFirst     time.Time
	haveAfterFirst bool
	epochEnd       time.Time
	haveEpochEnd   bool

	buf []byte
}

// progInterval is the least time between two redraws, as Keras's 0.05 s.
const progInterval = 50 * time.Millisecond

// reset starts a new bar of target steps; Keras creates the Progbar, and so
// starts its clock, at the beginning of each epoch.
func (p *progbar) reset(target int) {
	p.target = target
	p.start = p.now()
	p.updated = false
	p.totalWidth = 0
	p.haveAfterFirst = false
	p.haveEpochEnd = false
}

// update shows progress at step current with the given values; finalize
// marks the last call, which always draws and ends the line.
func (p *progbar) update(current int, values []metricValue, finalize bool) {
	now := p.now()
	elapsed := now.Sub(p.start).Seconds()
	if current == p.target {
		p.epochEnd, p.haveEpochEnd = now, true
	}
	b := p.buf[:0]
	switch p.verbose {
	case VerboseBar:
		if p.updated && now.Sub(p.lastUpdate) < progInterval && !finalize {
			return
		}
		prev := p.totalWidth
		for range prev {
			b = append(b, '\b')
		}
		b = append(b, '\r')
		mark := len(b)
		b = p.appendCount(b, current, true)
		b = append(b, " ["...)
		w := int(30 * float64(current) / float64(p.target))
		if w > 0 {
			for range w - 1 {
				b = append(b, '=')
			}
			if current < p.target {
				b = append(b, '>')
			} else {
				b = append(b, '=')
			}
		}
		for range 30 - w {
			b = append(b, '.')
		}
		b = append(b, ']')
		p.totalWidth = len(b) - mark
		infoStart := len(b)

		perStep := p.stepDuration(current, now)
		if finalize {
			b = append(b, " - "...)
			b = strconv.AppendFloat(b, elapsed, 'f', 0, 64)
			b = append(b, 's')
			b = appendTime(b, perStep, "step")
		} else {
			eta := perStep * float64(p.target-current)
			b = append(b, " - ETA: "...)
			switch {
			case eta > 3600:
				b = strconv.AppendInt(b, int64(eta/3600), 10)
				b = append(b, ':')
				b = append2(b, int64(math.Mod(eta, 3600)/60))
				b = append(b, ':')
				b = append2(b, int64(math.Mod(eta, 60)))
			case eta > 60:
				b = strconv.AppendInt(b, int64(eta/60), 10)
				b = append(b, ':')
				b = append2(b, int64(math.Mod(eta, 60)))
			default:
				b = strconv.AppendInt(b, int64(eta), 10)
				b = append(b, 's')
			}
		}
		for _, v := range values {
			b = appendMetric(b, v, math.Abs(v.v) > 1e-3)
		}
		p.totalWidth += len(b) - infoStart
		for range prev - p.totalWidth {
			b = append(b, ' ')
		}
		if finalize {
			b = append(b, '\n')
		}
	case VerboseEpoch:
		if !finalize {
			break
		}
		b = p.appendCount(b, current, false)
		b = append(b, " - "...)
		b = strconv.AppendFloat(b, elapsed, 'f', 0, 64)
		b = append(b, 's')
		for _, v := range values {
			// In this mode Keras tests v, not |v|, for the exponent form.
			b = appendMetric(b, v, v.v > 1e-3)
		}
		if p.haveEpochEnd {
			perEpoch := p.epochEnd.Sub(p.start).Seconds()
			b = append(b, " -"...)
			b = appendTime(b, perEpoch, "epoch")
			b = append(b, " -"...)
			b = appendTime(b, perEpoch/float64(p.target), "step")
			b = append(b, '\n')
		}
	default:
		return
	}
	p.buf = b
	if len(b) > 0 {
		p.w.Write(b) //nolint:errcheck // progress output is best effort, as print is in Keras
	}
	p.lastUpdate, p.updated = now, true
}

// stepDuration is Keras's estimate of the time per step: it excludes the
// first step (which includes tracing in Keras) once there is a second.
func (p *progbar) stepDuration(current int, now time.Time) float64 {
	if current == 0 {
		return 0
	}
	var t float64
	if p.haveAfterFirst && current > 1 {
		t = now.Sub(p.afterFirst).Seconds() / float64(current-1)
	} else {
		t = now.Sub(p.start).Seconds() / float64(current)
	}
	if current == 1 {
		p.afterFirst, p.haveAfterFirst = now, true
	}
	return t
}

// appendCount writes "%{d}d/%d" with d the number of digits of the target.
func (p *progbar) appendCount(b []byte, current int, pad bool) []byte {
	// The digit count of the target, which Keras gets from int(log10)+1;
	// counting avoids log10's rounding at powers of ten.
	digits := 1
	for t := p.target; t >= 10; t /= 10 {
		digits++
	}
	var tmp [20]byte
	c := strconv.AppendInt(tmp[:0], int64(current), 10)
	for i := len(c); i < digits; i++ {
		b = append(b, ' ')
	}
	b = append(b, c...)
	b = append(b, '/')
	return strconv.AppendInt(b, int64(p.target), 10)
}

// appendTime writes Keras's " 3ms/step" form.
func appendTime(b []byte, t float64, unit string) []byte {
	b = append(b, ' ')
	switch {
	case t >= 1 || t == 0:
		b = strconv.AppendFloat(b, t, 'f', 0, 64)
		b = append(b, 's')
	case t >= 1e-3:
		b = strconv.AppendFloat(b, t*1e3, 'f', 0, 64)
		b = append(b, "ms"...)
	default:
		b = strconv.AppendFloat(b, t*1e6, 'f', 0, 64)
		b = append(b, "us"...)
	}
	b = append(b, '/')
	return append(b, unit...)
}

// appendMetric writes " - name: value" with Python's %.4f, or %.4e when
// fixed is false.
func appendMetric(b []byte, v metricValue, fixed bool) []byte {
	b = append(b, " - "...)
	b = append(b, v.name...)
	b = append(b, ": "...)
	switch {
	case math.IsNaN(v.v):
		return append(b, "nan"...)
	case math.IsInf(v.v, 1):
		return append(b, "inf"...)
	case math.IsInf(v.v, -1):
		return append(b, "-inf"...)
	case fixed:
		return strconv.AppendFloat(b, v.v, 'f', 4, 64)
	default:
		return strconv.AppendFloat(b, v.v, 'e', 4, 64)
	}
}

// append2 writes v with at least two digits, as %02d.
func append2(b []byte, v int64) []byte {
	if v < 10 {
		b = append(b, '0')
	}
	return strconv.AppendInt(b, v, 10)
}
