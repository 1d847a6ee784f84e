package main

import (
	"image/color"
	"io"
	"math"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// drawPNG draws one group of horizontal bars per benchmark, one bar per
// contender, each the contender's speed relative to the base (the
// reciprocal of the table's ×, so longer is faster and the base is 1).
// Speed rather than time keeps every bar between 0 and a few, where a
// linear axis reads well; a log axis cannot start bars at zero.
func (t *table) drawPNG(w io.Writer) error {
	p := plot.New()
	p.Title.Text = "speed relative to " + t.base + " (longer is faster)"
	p.X.Label.Text = "× " + t.base
	p.X.Min = 0
	barW := vg.Points(5)
	drawn, most := 0, 0.0
	for i, col := range t.cols {
		vals := make(plotter.Values, len(t.rows))
		// NominalY puts the first name at the bottom: reverse, so the
		// chart reads top-down like the table.
		for j, row := range t.rows {
			if r := t.ratio(row, col); !math.IsNaN(r) && r > 0 {
				vals[len(t.rows)-1-j] = 1 / r
				drawn++
				most = max(most, 1/r)
			}
		}
		bars, err := plotter.NewBarChart(vals, barW)
		if err != nil {
			return err
		}
		bars.Horizontal = true
		bars.Color = palette[i%len(palette)]
		bars.LineStyle.Width = 0
		// Centre the group on the row: contender i sits i bars below the
		// first, the group spanning len(cols) bars.
		bars.Offset = barW * vg.Length(float64(len(t.cols)-1)/2-float64(i))
		p.Add(bars)
		p.Legend.Add(col, bars)
	}
	if drawn == 0 {
		return errNothingToDraw
	}
	p.Add(plotter.NewGrid())
	names := slices.Clone(t.rows)
	slices.Reverse(names)
	p.NominalY(names...)
	p.Legend.Top = true
	// Room on the right for the legend, clear of the longest bar.
	p.X.Max = most * 1.9
	height := vg.Length(len(t.rows)*len(t.cols))*barW + vg.Length(len(t.rows))*vg.Points(6) + vg.Points(120)
	wt, err := p.WriterTo(9*vg.Inch, height, "png")
	if err != nil {
		return err
	}
	_, err = wt.WriteTo(w)
	return err
}

// palette has as many distinguishable colours as a full bench-peers run
// has contenders (plotutil's default has seven, which would repeat).
var palette = []color.Color{
	color.RGBA{0x8c, 0x8c, 0x8c, 0xff}, // grey
	color.RGBA{0x9e, 0xca, 0xe1, 0xff}, // light blue
	color.RGBA{0x31, 0x82, 0xbd, 0xff}, // blue
	color.RGBA{0x08, 0x30, 0x6b, 0xff}, // dark blue
	color.RGBA{0xfd, 0xae, 0x6b, 0xff}, // light orange
	color.RGBA{0xe6, 0x55, 0x0d, 0xff}, // orange
	color.RGBA{0xa1, 0xd9, 0x9b, 0xff}, // light green
	color.RGBA{0x31, 0xa3, 0x54, 0xff}, // green
	color.RGBA{0xfc, 0x92, 0x72, 0xff}, // light red
	color.RGBA{0xcb, 0x18, 0x1d, 0xff}, // red
	color.RGBA{0xbc, 0xbd, 0xdc, 0xff}, // light purple
	color.RGBA{0x6a, 0x51, 0xa3, 0xff}, // purple
	color.RGBA{0xe7, 0xcb, 0x94, 0xff}, // sand
	color.RGBA{0x84, 0x3c, 0x39, 0xff}, // brown
}
