package main

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"path/filepath"
	"strings"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	vgdraw "gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/simdmlp/simdmlp/internal/atomicfile"
	"github.com/simdmlp/simdmlp/mlp"
)

// checkPNGPath reports a usage problem with an output picture's name.
func checkPNGPath(flagName, path string) error {
	if !strings.EqualFold(filepath.Ext(path), ".png") {
		return usageError{fmt.Sprintf("%s %q: the picture is written as PNG; give a name ending in .png", flagName, path)}
	}
	return nil
}

// plotHistory draws the per-epoch loss and accuracy of a Fit, training and
// validation, side by side, and writes them as a PNG.
func plotHistory(h *mlp.History, path string) error {
	series := func(key string) plotter.XYs {
		var xy plotter.XYs
		for i, v := range h.History[key] {
			xy = append(xy, plotter.XY{X: float64(i + 1), Y: v})
		}
		return xy
	}
	var plots []*plot.Plot
	for _, key := range []string{"loss", "accuracy"} {
		p := plot.New()
		p.Title.Text = key
		p.X.Label.Text = "epoch"
		p.Y.Label.Text = key
		p.Legend.Top = key == "loss" // the corner the curves leave empty
		p.Legend.Left = false
		var args []any
		if _, ok := h.History[key]; ok {
			args = append(args, "training", series(key))
		}
		if _, ok := h.History["val_"+key]; ok {
			args = append(args, "validation", series("val_"+key))
		}
		if len(args) == 0 {
			return fmt.Errorf("plotting %s: the history has no %q", path, key)
		}
		if err := plotutil.AddLinePoints(p, args...); err != nil {
			return fmt.Errorf("plotting %s: %w", path, err)
		}
		p.X.Min, p.X.Max = 0.5, float64(len(h.Epoch))+0.5
		p.X.Tick.Marker = plot.TickerFunc(func(lo, hi float64) []plot.Tick {
			var t []plot.Tick
			step := max(1, len(h.Epoch)/10)
			for e := 1; e <= len(h.Epoch); e += step {
				t = append(t, plot.Tick{Value: float64(e), Label: fmt.Sprint(e)})
			}
			return t
		})
		plots = append(plots, p)
	}
	img := vgimg.New(10*vg.Inch, 4*vg.Inch)
	dc := vgdraw.New(img)
	tiles := vgdraw.Tiles{Rows: 1, Cols: 2, PadX: vg.Millimeter * 6, PadTop: vg.Millimeter * 2,
		PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 4}
	cs := plot.Align([][]*plot.Plot{plots}, tiles, dc)
	for i, p := range plots {
		p.Draw(cs[0][i])
	}
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&buf); err != nil {
		return fmt.Errorf("plotting %s: %w", path, err)
	}
	return atomicfile.WriteFile(path, buf.Bytes())
}

func encodePNG(path string, img image.Image) error {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return atomicfile.WriteFile(path, buf.Bytes())
}

// text draws s with its top-left corner at (x, y) in 7×13 pixel glyphs.
func text(dst draw.Image, x, y int, c color.Color, s string) {
	d := font.Drawer{Dst: dst, Src: image.NewUniform(c), Face: basicfont.Face7x13,
		Dot: fixed.P(x, y+basicfont.Face7x13.Ascent)}
	d.DrawString(s)
}

func fill(dst draw.Image, r image.Rectangle, c color.Color) {
	draw.Draw(dst, r, image.NewUniform(c), image.Point{}, draw.Src)
}

var (
	white = color.RGBA{255, 255, 255, 255}
	black = color.RGBA{0, 0, 0, 255}
	red   = color.RGBA{220, 30, 30, 255}
	green = color.RGBA{20, 140, 40, 255}
)

// confusionPNG draws the confusion matrix (rows: true class, columns:
// predicted) with each cell shaded by its share of its row.
func confusionPNG(path string, conf [][]int, names []string) error {
	const cell, left, top = 44, 110, 40
	k := len(conf)
	img := image.NewRGBA(image.Rect(0, 0, left+k*cell+10, top+k*cell+30))
	fill(img, img.Bounds(), white)
	text(img, left, 4, black, "predicted class")
	text(img, 4, 4, black, "true class")
	for j := range k {
		text(img, left+j*cell+cell/2-4, top-16, black, fmt.Sprint(j))
	}
	for i, row := range conf {
		total := 0
		for _, v := range row {
			total += v
		}
		label := fmt.Sprint(i)
		if i < len(names) {
			label += " " + names[i]
		}
		text(img, 4, top+i*cell+cell/2-7, black, label)
		for j, v := range row {
			share := 0.0
			if total > 0 {
				share = float64(v) / float64(total)
			}
			// Blue for the diagonal, red off it, darker for a larger share.
			shade := uint8(255 - 200*share)
			c := color.RGBA{255, shade, shade, 255}
			if i == j {
				c = color.RGBA{shade, shade, 255, 255}
			}
			r := image.Rect(left+j*cell+1, top+i*cell+1, left+(j+1)*cell, top+(i+1)*cell)
			fill(img, r, c)
			ink := black
			if share > 0.6 {
				ink = white
			}
			s := fmt.Sprint(v)
			text(img, r.Min.X+(cell-7*len(s))/2, r.Min.Y+cell/2-7, ink, s)
		}
	}
	text(img, left, top+k*cell+8, black, "cell: samples; shade: share of the true class")
	return encodePNG(path, img)
}

// gridPNG draws 28×28 images (pixels 0..255) in a grid, each labelled with
// its predicted and true class; wrong predictions get a red frame and red
// labels.
func gridPNG(path string, pixels [][]uint8, pred, truth []int, names []string) error {
	const scale, cellW, cellH, pad = 4, 124, 28*4 + 34, 6
	n := len(pixels)
	cols := 1
	for cols*cols < n {
		cols++
	}
	rows := (n + cols - 1) / cols
	img := image.NewRGBA(image.Rect(0, 0, cols*(cellW+pad)+pad, rows*(cellH+pad)+pad+20))
	fill(img, img.Bounds(), white)
	wrong := 0
	for i := range n {
		if pred[i] != truth[i] {
			wrong++
		}
	}
	text(img, pad, 3, black, fmt.Sprintf("predicted / true class; %d of %d wrong, framed in red", wrong, n))
	for i, px := range pixels {
		x0 := pad + (i%cols)*(cellW+pad)
		y0 := pad + 20 + (i/cols)*(cellH+pad)
		ok := pred[i] == truth[i]
		ink := green
		if !ok {
			ink = red
			fill(img, image.Rect(x0, y0, x0+cellW, y0+28*scale+6), red)
		}
		ix := x0 + (cellW-28*scale)/2
		iy := y0 + 3
		for y := range 28 {
			for x := range 28 {
				v := px[y*28+x]
				fill(img, image.Rect(ix+x*scale, iy+y*scale, ix+(x+1)*scale, iy+(y+1)*scale), color.RGBA{v, v, v, 255})
			}
		}
		text(img, x0, y0+28*scale+7, ink, "p: "+className(names, pred[i]))
		text(img, x0, y0+28*scale+20, black, "t: "+className(names, truth[i]))
	}
	return encodePNG(path, img)
}

func className(names []string, c int) string {
	if c >= 0 && c < len(names) {
		return fmt.Sprintf("%d %s", c, names[c])
	}
	return fmt.Sprint(c)
}

// figure is matplotlib's current figure as chapter 7-3 uses it: curves
// given as plt.plot(list) draws them, against 0, 1, … (the list's
// indices, here the 0-based epochs), axis labels and a legend.
type figure struct {
	curves         [][]float64
	xlabel, ylabel string
	legend         []string // one name per curve, in order; none without plt.legend
}

// matplotlib's first two default line colours (tab:blue, tab:orange), so
// that 'train' and 'val' have the colours the book's figures have.
var mplColors = []color.RGBA{{0x1f, 0x77, 0xb4, 255}, {0xff, 0x7f, 0x0e, 255}, {0x2c, 0xa0, 0x2c, 255}, {0xd6, 0x27, 0x28, 255}}

// writePNG draws the figure as a 640×480 PNG, matplotlib's default size at
// its default 100 dpi.
func (f *figure) writePNG(path string) error {
	if len(f.curves) == 0 {
		return fmt.Errorf("plotting %s: nothing was plotted", path)
	}
	p := plot.New()
	p.X.Label.Text = f.xlabel
	p.Y.Label.Text = f.ylabel
	p.Legend.Top = true
	// Inset the legend from the corner, as matplotlib's is.
	p.Legend.XOffs, p.Legend.YOffs = -vg.Points(8), -vg.Points(8)
	n := 0
	for i, ys := range f.curves {
		xy := make(plotter.XYs, len(ys))
		for j, y := range ys {
			xy[j] = plotter.XY{X: float64(j), Y: y}
		}
		line, err := plotter.NewLine(xy)
		if err != nil {
			return fmt.Errorf("plotting %s: %w", path, err)
		}
		line.LineStyle.Color = mplColors[i%len(mplColors)]
		line.LineStyle.Width = vg.Points(1.5)
		p.Add(line)
		if i < len(f.legend) {
			p.Legend.Add(f.legend[i], line)
		}
		n = max(n, len(ys))
	}
	// A single epoch gives a zero-width x range, which matplotlib widens
	// around the point; so does this.
	if n == 1 {
		p.X.Min, p.X.Max = -0.5, 0.5
	}
	img := vgimg.NewWith(vgimg.UseWH(6.4*vg.Inch, 4.8*vg.Inch), vgimg.UseDPI(100))
	// A margin round the axes, which gonum/plot otherwise draws to the
	// picture's edges.
	m := vg.Points(10)
	p.Draw(vgdraw.Crop(vgdraw.New(img), m, -m, m, -m))
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&buf); err != nil {
		return fmt.Errorf("plotting %s: %w", path, err)
	}
	return atomicfile.WriteFile(path, buf.Bytes())
}
