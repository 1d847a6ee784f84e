package mlp

import (
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Layout of TF-Keras 2.14's summary for sequential models: 65 columns with
// stops at int(65·0.45), int(65·0.85) and 65.
const summaryWidth = 65

var summaryStops = [3]int{29, 55, 65}

// Summary writes the model's summary to w in TF-Keras 2.14's text layout,
// byte for byte: name, one row per layer with its output shape and
// parameter count, and the totals with their sizes. Cells too long for
// their column wrap as Keras wraps them; widths count characters, not
// bytes, so Unicode names align. An unbuilt model gives ErrNotBuilt.
func (m *Sequential) Summary(w io.Writer) error {
	if m.err != nil {
		return m.err
	}
	if !m.built {
		return ErrNotBuilt
	}
	var b strings.Builder
	line := func(s string) { b.WriteString(s); b.WriteByte('\n') }
	line(`Model: "` + m.name + `"`)
	line(strings.Repeat("_", summaryWidth))
	summaryRow(&b, [3]string{"Layer (type)", "Output Shape", "Param #"})
	line(strings.Repeat("=", summaryWidth))
	for _, l := range m.layers {
		summaryRow(&b, [3]string{
			l.name + " (" + l.ClassName() + ")",
			pyShape(l.outDim),
			strconv.Itoa(l.CountParams()),
		})
		line(strings.Repeat(" ", summaryWidth))
	}
	line(strings.Repeat("=", summaryWidth))
	n := m.CountParams()
	size := readableSize(float64(4 * n))
	line("Total params: " + strconv.Itoa(n) + " (" + size + ")")
	line("Trainable params: " + strconv.Itoa(n) + " (" + size + ")")
	line("Non-trainable params: 0 (" + readableSize(0) + ")")
	line(strings.Repeat("_", summaryWidth))
	_, err := io.WriteString(w, b.String())
	return err
}

// summaryRow writes one table row, wrapped onto as many lines as the
// longest cell needs. Column 0 starts after one space; every cell but the
// last is followed by two spaces; each line is padded to the column stop.
// A cell is cut at its column's width, or earlier just after the first
// "),", "},", "]," or "'," that fits, which is where Keras breaks a tuple.
func summaryRow(b *strings.Builder, fields [3]string) {
	left := fields
	for left[0] != "" || left[1] != "" || left[2] != "" {
		var line []rune
		for col := range left {
			start := 0
			if col > 0 {
				start = summaryStops[col-1]
			}
			space := 2
			if col == len(left)-1 {
				space = 0
			}
			cutoff := summaryStops[col] - start - space
			if col != len(left)-1 {
				cutoff--
			}
			cell := []rune(left[col])
			fit := cell[:min(cutoff, len(cell))]
			best := -1
			for _, brk := range []string{"),", "},", "],", "',"} {
				if i := strings.Index(string(fit), brk); i >= 0 {
					c := utf8.RuneCountInString(string(fit)[:i]) + 2
					if best < 0 || c < best {
						best = c
					}
				}
			}
			if best >= 0 {
				cutoff = best
				fit = fit[:cutoff]
			}
			if col == 0 {
				line = append(line, ' ')
			}
			line = append(line, fit...)
			for range space {
				line = append(line, ' ')
			}
			left[col] = string(cell[min(cutoff, len(cell)):])
			for len(line) < summaryStops[col] {
				line = append(line, ' ')
			}
		}
		b.WriteString(string(line))
		b.WriteByte('\n')
	}
}

// readableSize formats a byte count as Keras does: divide by 1024 until
// the value is below 1024, then "%.2f unit".
func readableSize(bytes float64) string {
	units := []string{"Byte", "KB", "MB", "GB", "TB", "PB"}
	for _, u := range units {
		if bytes/1024 < 1 {
			return strconv.FormatFloat(bytes, 'f', 2, 64) + " " + u
		}
		bytes /= 1024
	}
	return strconv.FormatFloat(bytes, 'f', 2, 64) + " PB"
}
