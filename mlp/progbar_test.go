package mlp

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// fakeClock returns a clock that advances by step at every reading.
func fakeClock(step time.Duration) func() time.Time {
	t := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return func() time.Time {
		t = t.Add(step)
		return t
	}
}

// scriptedClock returns the start time plus each offset in turn.
func scriptedClock(offsets ...time.Duration) func() time.Time {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	i := 0
	return func() time.Time {
		d := offsets[min(i, len(offsets)-1)]
		i++
		return t0.Add(d)
	}
}

// TestProgbarTutorialLine reproduces the tutorial's final verbose=1 line:
// 12.3 s after the start, with 4.497 s for the 1499 steps after the first
// (3 ms/step), after a first draw whose ETA uses the first step's 7.803 s.
func TestProgbarTutorialLine(t *testing.T) {
	var buf bytes.Buffer
	p := &progbar{w: &buf, now: scriptedClock(0, 7803*time.Millisecond, 12300*time.Millisecond), verbose: VerboseBar}
	p.reset(1500)
	vals := []metricValue{{"loss", 2.3125}, {"accuracy", 0.0625}}
	p.update(1, vals, false)
	first := "   1/1500 [..............................] - ETA: 3:14:56 - loss: 2.3125 - accuracy: 0.0625"
	if got := buf.String(); got != "\r"+first {
		t.Fatalf("first draw %q\nwant %q", got, "\r"+first)
	}
	buf.Reset()
	vals = []metricValue{{"loss", 0.5710}, {"accuracy", 0.8064}}
	p.update(1500, vals, true)
	final := "1500/1500 [==============================] - 12s 3ms/step - loss: 0.5710 - accuracy: 0.8064"
	want := strings.Repeat("\b", len(first)) + "\r" + final + strings.Repeat(" ", len(first)-len(final)) + "\n"
	if got := buf.String(); got != want {
		t.Errorf("final draw\n%q\nwant\n%q", got, want)
	}
}

// TestProgbarThrottleAndFormats: redraws closer than 0.05 s are skipped
// unless final; ETA forms M:SS and Ns; small values switch to %.4e; a
// shorter text is padded over the longer one.
func TestProgbarThrottleAndFormats(t *testing.T) {
	var buf bytes.Buffer
	ms := time.Millisecond
	p := &progbar{w: &buf, now: scriptedClock(0, 30*time.Second, 30*time.Second+20*ms, 31*time.Second, 31100*ms), verbose: VerboseBar}
	p.reset(10)
	p.update(1, []metricValue{{"loss", 12.5}}, false) // t=30 s: ETA 30·9 = 270 s
	want := "\r 1/10 [==>...........................] - ETA: 4:30 - loss: 12.5000"
	if buf.String() != want {
		t.Fatalf("draw 1 %q\nwant %q", buf.String(), want)
	}
	w1 := len(want) - 1
	buf.Reset()
	p.update(2, []metricValue{{"loss", 1}}, false) // 20 ms later: skipped
	if buf.Len() != 0 {
		t.Fatalf("throttled draw wrote %q", buf.String())
	}
	p.update(9, []metricValue{{"loss", -0.0005}}, false) // t=31: (31-30)/8 s/step, 1 left → 0s
	want = strings.Repeat("\b", w1) + "\r 9/10 [==========================>...] - ETA: 0s - loss: -5.0000e-04"
	if buf.String() != want {
		t.Fatalf("draw 3 %q\nwant %q", buf.String(), want)
	}
	w2 := len(want) - w1 - 1
	buf.Reset()
	p.update(10, []metricValue{{"loss", 0.25}}, true) // t=31.1: 31 s, 1.1/9 s/step
	final := "10/10 [==============================] - 31s 122ms/step - loss: 0.2500"
	want = strings.Repeat("\b", w2) + "\r" + final + strings.Repeat(" ", max(0, w2-len(final))) + "\n"
	if buf.String() != want {
		t.Errorf("final %q\nwant %q", buf.String(), want)
	}
}

// TestProgbarHourETA and the microsecond unit.
func TestProgbarHourETAAndMicroseconds(t *testing.T) {
	var buf bytes.Buffer
	p := &progbar{w: &buf, now: scriptedClock(0, 2*time.Hour, 2*time.Hour+500*time.Microsecond), verbose: VerboseBar}
	p.reset(3)
	p.update(1, nil, false) // 2 h per step, 2 left: 4 h
	if want := "\r1/3 [=========>....................] - ETA: 4:00:00"; buf.String() != want {
		t.Errorf("%q\nwant %q", buf.String(), want)
	}
	buf.Reset()
	p.update(3, nil, true) // 0.5 ms over 2 steps
	if !strings.HasSuffix(buf.String(), "\r3/3 [==============================] - 7200s 250us/step\n") {
		t.Errorf("%q", buf.String())
	}
}

func TestProgbarVerbose2(t *testing.T) {
	var buf bytes.Buffer
	p := &progbar{w: &buf, now: scriptedClock(0, 5200*time.Millisecond), verbose: VerboseEpoch}
	p.reset(1500)
	// In verbose=2 the exponent form is chosen when v ≤ 1e-3, sign included.
	p.update(1500, []metricValue{{"loss", 0.5710}, {"accuracy", 0.8064}, {"val_loss", -0.5}}, true)
	want := "1500/1500 - 5s - loss: 0.5710 - accuracy: 0.8064 - val_loss: -5.0000e-01 - 5s/epoch - 3ms/step\n"
	if buf.String() != want {
		t.Errorf("%q\nwant %q", buf.String(), want)
	}
}

// TestEvaluateBar: EvaluateWith's zero-valued verbosity draws Keras's bar
// with no Epoch line, and its final values are the returned scores.
func TestEvaluateBar(t *testing.T) {
	x, y := synth(70, 6, 3, 3)
	m := small(t, "relu", nil)
	var buf bytes.Buffer
	sc, err := m.EvaluateWith(x, y, EvalConfig{Out: &buf, Now: fakeClock(time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	draws := strings.Split(buf.String(), "\r")
	final := draws[len(draws)-1]
	want := "3/3 [==============================] - 4s 2s/step - loss: " + f4(sc.Loss) + " - accuracy: " + f4(sc.Accuracy) + "\n"
	if final != want {
		t.Errorf("final %q\nwant %q", final, want)
	}
	if strings.Contains(buf.String(), "Epoch") {
		t.Error("Evaluate printed an Epoch line")
	}
}

// TestProgbarWidthTruncates: Keras's bar fills int(30·current/target)
// cells, truncating; at 2/7 (8.57 cells) and 6/7 (25.71) rounding would
// fill one more.
func TestProgbarWidthTruncates(t *testing.T) {
	var buf bytes.Buffer
	p := &progbar{w: &buf, now: fakeClock(time.Second), verbose: VerboseBar}
	p.reset(7)
	for current, filled := range []int{1: 4, 2: 8, 3: 12, 4: 17, 5: 21, 6: 25} {
		if current == 0 {
			continue
		}
		buf.Reset()
		p.update(current, nil, false)
		s := buf.String()
		bar := s[strings.IndexByte(s, '[')+1 : strings.IndexByte(s, ']')]
		want := strings.Repeat("=", filled-1) + ">" + strings.Repeat(".", 30-filled)
		if bar != want {
			t.Errorf("%d/7: bar %q, want %q (%d cells)", current, bar, want, filled)
		}
	}
}
