package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image"
	_ "image/gif"  // predict reads GIF images too
	_ "image/jpeg" // and JPEG
	"io"
	"math"
	"os"
	"slices"
	"strings"

	xdraw "golang.org/x/image/draw"

	"github.com/simdmlp/simdmlp/internal/atomicfile"
	"github.com/simdmlp/simdmlp/mlp"
	"github.com/simdmlp/simdmlp/mnist"
)

// parseFlags parses a command's flags and turns the outcome into an exit
// status: -1 to go on, 0 after -h, 2 for a bad flag (the flag package has
// printed it with the usage).
func parseFlags(fs *flag.FlagSet, args []string) int {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	return -1
}

// usageFail prints a usage problem and returns exit status 2.
func usageFail(stderr io.Writer, cmd string, err error) int {
	fmt.Fprintf(stderr, "simdmlp %s: %v\nRun 'simdmlp %s -h' for the flags.\n", cmd, err, cmd)
	return 2
}

// fail prints one line and returns exit status 1.
func fail(stderr io.Writer, err error) int {
	fmt.Fprintf(stderr, "simdmlp: %v\n", err)
	return 1
}

// imageModel is what evaluate, predict and show run: a model (simdmlp's
// or ONNX), or an int8 predictor file (simdmlp quantize), which holds a
// Predictor and no model.
type imageModel struct {
	m *mlp.Sequential // nil for an int8 predictor file
	p *mlp.Predictor  // the int8 predictor; nil for a model
}

func (im *imageModel) String() string {
	if im.p != nil {
		return im.p.String()
	}
	return im.m.String()
}

// lastActivation returns the activation of the last Dense layer.
func (im *imageModel) lastActivation() string {
	if im.p != nil {
		return im.p.OutputActivation()
	}
	layers := im.m.Layers()
	return layers[len(layers)-1].Activation()
}

// predict writes the outputs of the samples of x (pixels values each).
func (im *imageModel) predict(x, out []float32) error {
	if im.p != nil {
		return im.p.Predict(x, len(x)/pixels, out)
	}
	return im.m.Predict(x, out)
}

// loadImageModel loads a model file (ours or ONNX, by its name) or an int8
// predictor file and checks that it takes 28×28 images and gives ten class
// outputs, as the Fashion-MNIST commands need.
func loadImageModel(path string) (*imageModel, error) {
	im := new(imageModel)
	var in, out int
	m, err := loadModel(path)
	switch {
	case errors.Is(err, mlp.ErrPredictorFile):
		p, err := mlp.LoadPredictor(path)
		if err != nil {
			return nil, withoutMLP(err)
		}
		im.p, in, out = p, p.InputSize(), p.OutputSize()
	case err != nil:
		return nil, err
	default:
		im.m, in, out = m, m.InputSize(), m.OutputSize()
	}
	if in != pixels || out != len(mnist.FashionClasses) {
		return nil, fmt.Errorf("model %s takes %d inputs and gives %d outputs; Fashion-MNIST needs %d and %d",
			path, in, out, pixels, len(mnist.FashionClasses))
	}
	return im, nil
}

// top3 returns the indices of the three largest probabilities, largest
// first (ties: lower class first).
func top3(p []float32) []int {
	idx := make([]int, len(p))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		switch {
		case p[a] > p[b]:
			return -1
		case p[a] < p[b]:
			return 1
		}
		return 0
	})
	return idx[:min(3, len(idx))]
}

// formatTop3 lists the three largest outputs with their classes: as
// probabilities when the outputs are softmax's, otherwise as scores, which
// rank the classes but are not probabilities.
func formatTop3(p []float32, probabilities bool) string {
	var b strings.Builder
	for i, c := range top3(p) {
		if i > 0 {
			b.WriteString(", ")
		}
		if probabilities {
			fmt.Fprintf(&b, "%d %s %.4f", c, mnist.FashionClasses[c], p[c])
		} else {
			fmt.Fprintf(&b, "%d %s score %.4f", c, mnist.FashionClasses[c], p[c])
		}
	}
	return b.String()
}

func argmax(p []float32) int { return top3(p)[0] }

// modelFlags adds the -model and -data flags every inspecting command has.
func modelFlags(fs *flag.FlagSet, withData bool) (model, data *string) {
	model = fs.String("model", "", "model file written by 'simdmlp train -save', or an ONNX model (a name ending in .onnx) (required)")
	if withData {
		data = fs.String("data", "", "directory holding Fashion-MNIST's files (default: search as train does)")
	}
	return model, data
}

func newFlagSet(name, synopsis, about string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("simdmlp "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: simdmlp %s %s\n\n%s\n\nflags:\n", name, synopsis, about)
		fs.PrintDefaults()
	}
	return fs
}

// runEvaluate is `simdmlp evaluate`: the model's loss and accuracy on the
// test set, per-class accuracy and the confusion matrix.
func runEvaluate(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("evaluate", "-model m.safetensors|m.onnx [flags]",
		"Evaluates a saved model on Fashion-MNIST's test set: loss, accuracy,\n"+
			"accuracy per class and the confusion matrix (as text, and as a PNG\n"+
			"with -confusion). The loss is the sparse categorical cross-entropy: of\n"+
			"the probabilities when the last layer is softmax, from logits when it\n"+
			"is linear (as an ONNX model without a final Softmax usually is).", stderr)
	model, data := modelFlags(fs, true)
	confusion := fs.String("confusion", "", "also draw the confusion matrix into this PNG file")
	jsonOut := fs.String("json", "", `also write {"loss", "accuracy", "samples"} into this JSON file`)
	if code := parseFlags(fs, args); code >= 0 {
		return code
	}
	if fs.NArg() > 0 {
		return usageFail(stderr, "evaluate", fmt.Errorf("unexpected argument %q", fs.Arg(0)))
	}
	if *model == "" {
		return usageFail(stderr, "evaluate", errors.New("-model is required"))
	}
	if *confusion != "" {
		if err := checkPNGPath("-confusion", *confusion); err != nil {
			return usageFail(stderr, "evaluate", err)
		}
	}
	if err := distinctOutputs([][2]string{{"-confusion", *confusion}, {"-json", *jsonOut}, {"-model", *model}}); err != nil {
		return usageFail(stderr, "evaluate", err)
	}
	for _, out := range []string{*confusion, *jsonOut} {
		if out == "" {
			continue
		}
		if err := atomicfile.CheckWritable(out); err != nil {
			return fail(stderr, err)
		}
	}
	m, err := loadImageModel(*model)
	if err != nil {
		return fail(stderr, err)
	}
	// Evaluate needs a compiled model (the optimizer is never used), and
	// Compile refuses a model whose loss cannot be computed: find that
	// out before reading the data.
	loss := mlp.SparseCategoricalCrossentropy
	switch act := m.lastActivation(); act {
	case "softmax":
	case "linear":
		// Logits, as Keras's from_logits=True and PyTorch's
		// CrossEntropyLoss take them: the cross-entropy of their softmax.
		loss = mlp.SparseCategoricalCrossentropyFromLogits
	default:
		return fail(stderr, fmt.Errorf("model %s cannot be evaluated: its last layer's activation is %s, "+
			"and the cross-entropy loss needs softmax probabilities or linear logits", *model, act))
	}
	if m.m != nil {
		if err := m.m.Compile(nil, loss, "accuracy"); err != nil {
			return fail(stderr, err)
		}
	}
	_, test, err := mnist.LoadFashion(*data)
	if err != nil {
		return fail(stderr, dataError(err))
	}
	x := test.Scaled()
	k := len(mnist.FashionClasses)
	probs := make([]float32, test.N*k)
	if err := m.predict(x, probs); err != nil {
		return fail(stderr, err)
	}
	var sc mlp.Scores
	if m.m != nil {
		if sc, err = m.m.EvaluateWith(x, test.Labels, mlp.EvalConfig{Verbose: mlp.VerboseSilent}); err != nil {
			return fail(stderr, err)
		}
	} else {
		sc = scoreOutputs(probs, test.Labels, loss == mlp.SparseCategoricalCrossentropyFromLogits)
	}
	conf := make([][]int, k)
	for i := range conf {
		conf[i] = make([]int, k)
	}
	for i, y := range test.Labels {
		conf[y][argmax(probs[i*k:(i+1)*k])]++
	}
	fmt.Fprintf(stdout, "model: %s (%s)\n", *model, m)
	if m.p != nil {
		fmt.Fprintln(stdout, "an int8 predictor: loss and accuracy come from its outputs, the loss computed in float64")
	}
	if loss == mlp.SparseCategoricalCrossentropyFromLogits {
		fmt.Fprintln(stdout, "the last layer is linear: its outputs are logits, and the loss is the cross-entropy of their softmax")
	}
	fmt.Fprintf(stdout, "test set: %d images; loss %.4f, accuracy %.4f\n\n", test.N, sc.Loss, sc.Accuracy)
	fmt.Fprintln(stdout, "accuracy per class:")
	for c, row := range conf {
		total := 0
		for _, v := range row {
			total += v
		}
		acc := 0.0
		if total > 0 {
			acc = float64(row[c]) / float64(total)
		}
		fmt.Fprintf(stdout, "  %d %-12s %.4f  (%d/%d)\n", c, mnist.FashionClasses[c], acc, row[c], total)
	}
	fmt.Fprintln(stdout, "\nconfusion matrix (rows: true class, columns: predicted class):")
	fmt.Fprint(stdout, "     ")
	for j := range k {
		fmt.Fprintf(stdout, "%6d", j)
	}
	fmt.Fprintln(stdout)
	for i, row := range conf {
		fmt.Fprintf(stdout, "  %d  ", i)
		for _, v := range row {
			fmt.Fprintf(stdout, "%6d", v)
		}
		fmt.Fprintln(stdout)
	}
	if *confusion != "" {
		if err := confusionPNG(*confusion, conf, mnist.FashionClasses[:]); err != nil {
			return fail(stderr, err)
		}
		fmt.Fprintf(stdout, "\nconfusion matrix drawn in %s\n", *confusion)
	}
	if *jsonOut != "" {
		b, err := json.MarshalIndent(evalReport{Loss: sc.Loss, Accuracy: sc.Accuracy, Samples: test.N}, "", "  ")
		if err != nil {
			return fail(stderr, err)
		}
		if err := atomicfile.WriteFile(*jsonOut, append(b, '\n')); err != nil {
			return fail(stderr, err)
		}
		fmt.Fprintf(stdout, "scores written to %s\n", *jsonOut)
	}
	return 0
}

// evalReport is what evaluate -json writes: Evaluate's scores (float32
// values widened, as Keras reports them) and the number of test images.
type evalReport struct {
	Loss     float64 `json:"loss"`
	Accuracy float64 `json:"accuracy"`
	Samples  int     `json:"samples"`
}

// runPredict is `simdmlp predict`: the top three classes of each image.
func runPredict(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("predict", "-model m.safetensors|m.onnx image.png…",
		"Prints the three most probable Fashion-MNIST classes of each image with\n"+
			"their probabilities. Images should be 28×28 grayscale PNGs, a light\n"+
			"object on a dark background as in Fashion-MNIST; colour images are\n"+
			"converted to gray and other sizes resized (JPEG and GIF are read too).\n"+
			"A model whose last layer is linear gives logits: the probabilities\n"+
			"shown are then their softmax, as the note above them says.", stderr)
	model, _ := modelFlags(fs, false)
	if code := parseFlags(fs, args); code >= 0 {
		return code
	}
	if *model == "" {
		return usageFail(stderr, "predict", errors.New("-model is required"))
	}
	if fs.NArg() == 0 {
		return usageFail(stderr, "predict", errors.New("no image files given"))
	}
	m, err := loadImageModel(*model)
	if err != nil {
		return fail(stderr, err)
	}
	act := m.lastActivation()
	// Logits become probabilities through a softmax, which is what the
	// model's loss (from logits) takes them for; other activations give
	// numbers that rank the classes but sum to nothing in particular.
	logits := act == "linear"
	probabilities := act == "softmax" || logits
	switch {
	case logits:
		fmt.Fprintf(stdout, "note: the last layer of %s is linear: its outputs are logits, and the probabilities "+
			"below are their softmax (computed here, not by the model)\n", *model)
	case !probabilities:
		fmt.Fprintf(stdout, "note: the last layer of %s is %s, not softmax: the numbers are scores, not probabilities\n",
			*model, act)
	}
	code := 0
	x := make([]float32, pixels)
	probs := make([]float32, len(mnist.FashionClasses))
	for _, path := range fs.Args() {
		note, err := readImage(path, x)
		if err != nil {
			code = fail(stderr, err)
			continue
		}
		if err := m.predict(x, probs); err != nil {
			code = fail(stderr, err)
			continue
		}
		if logits {
			softmaxInPlace(probs)
		}
		fmt.Fprintf(stdout, "%s%s: %s\n", path, note, formatTop3(probs, probabilities))
	}
	return code
}

// scoreOutputs is Evaluate's loss and accuracy computed from outputs
// already at hand (an int8 predictor has no Evaluate): the mean sparse
// categorical cross-entropy, of the probabilities clipped to
// [1e-7, 1−1e-7] after normalising each row as Keras does, or from logits
// through a log-softmax; and the share of rows whose largest output is at
// the label. It sums in float64.
func scoreOutputs(out []float32, labels []int32, logits bool) mlp.Scores {
	k := len(out) / len(labels)
	var loss float64
	right := 0
	for i, y := range labels {
		row := out[i*k : (i+1)*k]
		if argmax(row) == int(y) {
			right++
		}
		if logits {
			top := math.Inf(-1)
			for _, v := range row {
				top = max(top, float64(v))
			}
			sum := 0.0
			for _, v := range row {
				sum += math.Exp(float64(v) - top)
			}
			loss += top + math.Log(sum) - float64(row[y])
			continue
		}
		sum := 0.0
		for _, v := range row {
			sum += float64(v)
		}
		p := min(max(float64(row[y])/sum, 1e-7), 1-1e-7)
		loss -= math.Log(p)
	}
	n := float64(len(labels))
	// Rounded to float32 and widened, as Evaluate's scores are.
	return mlp.Scores{Loss: float64(float32(loss / n)), Accuracy: float64(float32(float64(right) / n))}
}

// softmaxInPlace turns logits into probabilities, in float64 after
// subtracting the largest logit so that no exponential overflows.
func softmaxInPlace(z []float32) {
	top := math.Inf(-1)
	for _, v := range z {
		top = max(top, float64(v))
	}
	sum := 0.0
	e := make([]float64, len(z))
	for i, v := range z {
		e[i] = math.Exp(float64(v) - top)
		sum += e[i]
	}
	for i := range z {
		z[i] = float32(e[i] / sum)
	}
}

// maxImagePixels bounds the images predict decodes: 16 megapixels, 64 MiB
// as RGBA, already far more than a 28×28 input needs.
const maxImagePixels = 1 << 24

// readImage decodes an image file into x as 28×28 gray values in [0, 1],
// converting and resizing as needed; note says what was done. The size in
// the image's header is checked before any pixel is decoded, so that a
// small file cannot ask for gigabytes.
func readImage(path string, x []float32) (note string, err error) {
	// A named pipe or a device would block or never end: check before
	// opening, since opening a pipe blocks already.
	if fi, err := os.Stat(path); err != nil {
		return "", err
	} else if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("%s: not a regular file", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	cfg, _, err := image.DecodeConfig(f)
	if err != nil {
		return "", fmt.Errorf("%s: not a PNG, JPEG or GIF image: %v", path, err)
	}
	if px := int64(cfg.Width) * int64(cfg.Height); px > maxImagePixels {
		return "", fmt.Errorf("%s: %d×%d pixels is too large to read (at most %d pixels; the model sees 28×28)",
			path, cfg.Width, cfg.Height, maxImagePixels)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	img, format, err := image.Decode(f)
	if err != nil {
		return "", fmt.Errorf("%s: not a PNG, JPEG or GIF image: %v", path, err)
	}
	b := img.Bounds()
	var notes []string
	if format != "png" {
		notes = append(notes, "read as "+format)
	}
	gray, isGray := img.(*image.Gray)
	if !isGray {
		gray = image.NewGray(b)
		xdraw.Draw(gray, b, img, b.Min, xdraw.Src)
		notes = append(notes, "converted to gray")
	}
	if b.Dx() != 28 || b.Dy() != 28 {
		if b.Dx() < 1 || b.Dy() < 1 {
			return "", fmt.Errorf("%s: the image is empty", path)
		}
		small := image.NewGray(image.Rect(0, 0, 28, 28))
		xdraw.CatmullRom.Scale(small, small.Bounds(), gray, b, xdraw.Src, nil)
		gray = small
		notes = append(notes, fmt.Sprintf("resized from %d×%d", b.Dx(), b.Dy()))
	}
	for y := range 28 {
		for xx := range 28 {
			x[y*28+xx] = float32(gray.GrayAt(gray.Rect.Min.X+xx, gray.Rect.Min.Y+y).Y) / 255
		}
	}
	if len(notes) > 0 {
		note = " (" + strings.Join(notes, ", ") + ")"
	}
	return note, nil
}

// runShow is `simdmlp show`: a picture of test images with the model's
// predictions.
func runShow(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("show", "-model m.safetensors|m.onnx [-n 25] grid.png",
		"Draws the first n test images in a grid, each labelled with the\n"+
			"predicted (p) and true (t) class; wrong predictions are framed in red.", stderr)
	model, data := modelFlags(fs, true)
	n := fs.Int("n", 25, "number of test images to show (1..400)")
	if code := parseFlags(fs, args); code >= 0 {
		return code
	}
	if *model == "" {
		return usageFail(stderr, "show", errors.New("-model is required"))
	}
	if fs.NArg() != 1 {
		return usageFail(stderr, "show", fmt.Errorf("want one output file name, got %d arguments", fs.NArg()))
	}
	out := fs.Arg(0)
	if *n < 1 || *n > 400 {
		return usageFail(stderr, "show", fmt.Errorf("-n %d: want 1..400", *n))
	}
	if err := checkPNGPath("output", out); err != nil {
		return usageFail(stderr, "show", err)
	}
	if err := atomicfile.CheckWritable(out); err != nil {
		return fail(stderr, err)
	}
	m, err := loadImageModel(*model)
	if err != nil {
		return fail(stderr, err)
	}
	_, test, err := mnist.LoadFashion(*data)
	if err != nil {
		return fail(stderr, dataError(err))
	}
	k := min(*n, test.N)
	x := test.Scaled()[:k*pixels]
	nc := len(mnist.FashionClasses)
	probs := make([]float32, k*nc)
	if err := m.predict(x, probs); err != nil {
		return fail(stderr, err)
	}
	imgs := make([][]uint8, k)
	pred, truth := make([]int, k), make([]int, k)
	wrong := 0
	for i := range k {
		imgs[i] = test.Images[i*pixels : (i+1)*pixels]
		pred[i], truth[i] = argmax(probs[i*nc:(i+1)*nc]), int(test.Labels[i])
		if pred[i] != truth[i] {
			wrong++
		}
	}
	if err := gridPNG(out, imgs, pred, truth, mnist.FashionClasses[:]); err != nil {
		return fail(stderr, err)
	}
	fmt.Fprintf(stdout, "%d test images drawn in %s; %d predicted wrongly\n", k, out, wrong)
	return 0
}
