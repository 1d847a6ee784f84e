package mlp

import (
	"fmt"
	"math"

	"github.com/simdmlp/simdmlp/kernels"
)

// work holds every buffer a step needs, sized for batches of up to rows
// samples and reused across steps so that training allocates nothing once
// warmed up.
type work struct {
	rows  int
	x     []float32   // gathered batch inputs, rows × inSize
	y     []int32     // gathered batch labels
	out   [][]float32 // per Dense layer: rows × units, pre- then post-activation
	delta [][]float32 // per Dense layer: gradient w.r.t. its pre-activation
	// dropped holds, per Dense layer fed by Dropout layers, its input
	// after them (rows × in), which its weight gradient needs; nil for the
	// others.
	dropped [][]float32
	probs   []float32   // softmax of the last layer, rows × classes
	params  [][]float32 // W1, b1, W2, b2, … as the optimizer sees them
	grads   [][]float32 // their gradients, same order
}

// ensure sizes the work buffers for batches of up to rows samples. It
// allocates only when the model changed or rows grew.
func (m *Sequential) ensure(rows int) {
	ws := &m.ws
	if ws.rows >= rows && len(ws.out) == len(m.dense) {
		return
	}
	rows = max(rows, ws.rows, 1)
	nd := len(m.dense)
	ws.rows = rows
	ws.x = make([]float32, rows*m.inSize)
	ws.y = make([]int32, rows)
	ws.out = make([][]float32, nd)
	ws.delta = make([][]float32, nd)
	ws.dropped = make([][]float32, nd)
	for i, l := range m.dense {
		ws.out[i] = make([]float32, rows*l.units)
		ws.delta[i] = make([]float32, rows*l.units)
		if len(l.drops) > 0 {
			ws.dropped[i] = make([]float32, rows*l.in)
		}
	}
	ws.probs = make([]float32, rows*m.dense[nd-1].units)
	if len(ws.params) != 2*nd {
		ws.params = make([][]float32, 0, 2*nd)
		ws.grads = make([][]float32, 0, 2*nd)
		for _, l := range m.dense {
			ws.params = append(ws.params, l.w, l.b)
			ws.grads = append(ws.grads, make([]float32, len(l.w)), make([]float32, len(l.b)))
		}
	}
}

// forward runs the Dense layers on the rows×inSize input x. The last
// layer's activation is applied only when applyLast is set; otherwise its
// output holds the logits (bias added). last, when not nil, receives the
// last layer's output instead of the work buffer. It returns the last
// layer's output. The Dropout layers act only when train is set: they then
// draw this step's masks and leave their outputs in ws.dropped.
func (m *Sequential) forward(x []float32, rows int, applyLast, train bool, last []float32) []float32 {
	in := x
	nd := len(m.dense)
	for i, l := range m.dense {
		if train && len(l.drops) > 0 {
			in = m.dropForward(i, in, rows)
		}
		z := m.ws.out[i][:rows*l.units]
		if i == nd-1 && last != nil {
			z = last[:rows*l.units]
		}
		act := l.act
		if i == nd-1 && !applyLast {
			act = kernels.ActLinear
		}
		// z = act(in·W + b) in one pass: the bias and ReLU are applied as
		// each tile of z leaves the GEMM's registers.
		kernels.DenseForward(act, rows, l.units, l.in, in, l.in, l.w, l.units, l.b, z, l.units)
		in = z
	}
	return in
}

// dropForward applies the Dropout layers that feed Dense layer i to its
// input in, drawing their masks for the coming optimizer step, and returns
// the result, which lies in ws.dropped[i].
func (m *Sequential) dropForward(i int, in []float32, rows int) []float32 {
	l := m.dense[i]
	d := m.ws.dropped[i][:rows*l.in]
	it := m.Iterations()
	for _, dl := range l.drops {
		dl.drop = dl.dropoutParams(it)
		kernels.Dropout(d, in, dl.drop)
		in = d
	}
	return d
}

// lossAndGrad runs the forward pass and the fused softmax cross-entropy on
// a batch: it returns the summed per-sample loss and the number of correct
// predictions, and leaves the probabilities in ws.probs and the gradient of
// the mean loss with respect to the logits in the last delta buffer.
func (m *Sequential) lossAndGrad(x []float32, y []int32, rows int) (lossSum float64, correct int) {
	logits := m.forward(x, rows, false, true, nil)
	last := m.dense[len(m.dense)-1]
	n := rows * last.units
	probs := m.ws.probs[:n]
	lossSum = kernels.SoftmaxCrossEntropy(probs, m.ws.delta[len(m.dense)-1][:n], logits, y, rows, last.units)
	correct = kernels.CountCorrect(probs, y, rows, last.units)
	return lossSum, correct
}

// backward computes every weight gradient into ws.grads from the deltas
// left by lossAndGrad and the activations of the forward pass on x.
func (m *Sequential) backward(x []float32, rows int) {
	ws := &m.ws
	for i := len(m.dense) - 1; i >= 0; i-- {
		l := m.dense[i]
		dz := ws.delta[i][:rows*l.units]
		in := x
		if i > 0 {
			in = ws.out[i-1][:rows*l.in]
		}
		fed := in // the layer's input as it saw it, after any Dropout
		if len(l.drops) > 0 {
			fed = ws.dropped[i][:rows*l.in]
		}
		// dW = inᵀ·dZ and db = column sums of dZ.
		kernels.Sgemm(true, false, l.in, l.units, rows, 1, fed, l.in, dz, l.units, 0, ws.grads[2*i], l.units)
		kernels.ColSum(ws.grads[2*i+1], dz, rows, l.units)
		if i > 0 {
			// dA = dZ·Wᵀ, then through the previous layer's activation.
			prev := m.dense[i-1]
			da := ws.delta[i-1][:rows*prev.units]
			kernels.Sgemm(false, true, rows, l.in, l.units, 1, dz, l.units, l.w, l.units, 0, da, l.in)
			// A Dropout's gradient is its own mask and scale again.
			for k := len(l.drops) - 1; k >= 0; k-- {
				kernels.Dropout(da, da, l.drops[k].drop)
			}
			kernels.ActivationGrad(prev.act, da, da, in, rows, prev.units)
		}
	}
}

// step is one training step on a batch already in place: forward, loss,
// backward, optimizer update. Its loss and accuracy describe the weights
// before the update, as Keras's do.
func (m *Sequential) step(x []float32, y []int32, rows int) (lossSum float64, correct int) {
	lossSum, correct = m.lossAndGrad(x, y, rows)
	m.backward(x, rows)
	m.updater.Step(m.ws.params, m.ws.grads)
	return lossSum, correct
}

// prepareTraining makes sure the optimizer exists for the built model.
func (m *Sequential) prepareTraining() error {
	if m.updater != nil {
		return nil
	}
	up, err := m.opt.Build(m.paramSizes())
	if err != nil {
		return fmt.Errorf("mlp: %w", err)
	}
	m.updater = up
	return nil
}

// checkData validates inputs and labels for a model whose input size is
// inSize and whose output has classes units, and returns the number of
// samples. y may be nil when labels are not needed.
func checkData(what string, x []float32, y []int32, inSize, classes int, needY bool) (int, error) {
	if len(x)%inSize != 0 || (needY && len(y) != len(x)/inSize) {
		return 0, fmt.Errorf("mlp: %s: %s", what, widthFault(len(x), len(y), inSize, needY, "labels in y"))
	}
	n := len(x) / inSize
	if needY {
		for i, c := range y {
			if c < 0 || int(c) >= classes {
				return 0, fmt.Errorf("mlp: %s: label y[%d] = %d is outside [0, %d): the output layer has %d units",
					what, i, c, classes, classes)
			}
		}
	}
	if !kernels.AllFinite(x) {
		for i, v := range x {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return 0, fmt.Errorf("mlp: %s: x contains NaN or Inf: x[%d] (sample %d, feature %d) = %v",
					what, i, i/inSize, i%inSize, v)
			}
		}
	}
	return n, nil
}

// widthFault says what is wrong with an input of xLen values for samples
// of inSize values, counted by rows (labels, or rows of an output buffer)
// when the caller gives a count: as Keras does, it names the width it
// found when the count tells it.
func widthFault(xLen, rows, inSize int, haveRows bool, rowsWhat string) string {
	switch {
	case haveRows && rows > 0 && xLen%rows == 0 && xLen/rows != inSize:
		msg := fmt.Sprintf("expected %d values per sample, got %d (len(x) = %d for %d %s)", inSize, xLen/rows, xLen, rows, rowsWhat)
		if xLen%inSize == 0 {
			msg += fmt.Sprintf("; or, if x holds %d samples of %d values, there should be %d %s", xLen/inSize, inSize, xLen/inSize, rowsWhat)
		}
		return msg
	case xLen%inSize != 0:
		return fmt.Sprintf("expected %d values per sample, but len(x) = %d is not a multiple of %d", inSize, xLen, inSize)
	}
	return fmt.Sprintf("x holds %d samples of %d values but there are %d %s", xLen/inSize, inSize, rows, rowsWhat)
}

// wrongWidth reports whether x, for rows samples, holds samples of another
// width than inSize: then widthFault has a width to name.
func wrongWidth(xLen, rows, inSize int) bool {
	return rows > 0 && xLen%rows == 0 && xLen/rows != inSize
}

// ready returns the error that keeps the model from training or
// evaluating, building it from the data when its input shape is unknown.
// more, if not nil, checks further data (validation sets) against the input
// size and number of classes. The model is built only after every check
// passed, so a failed call leaves it unchanged.
func (m *Sequential) ready(what string, x []float32, y []int32, needCompile bool, more func(inSize, classes int) error) (int, error) {
	if m.err != nil {
		return 0, m.err
	}
	if needCompile && !m.compiled {
		return 0, fmt.Errorf("mlp: %s: model %q: %w", what, m.name, ErrNotCompiled)
	}
	if len(m.layers) == 0 {
		return 0, fmt.Errorf("mlp: %s: model %q has no layers", what, m.name)
	}
	if m.built {
		n, err := checkData(what, x, y, m.inSize, m.OutputSize(), y != nil || needCompile)
		if err == nil && more != nil {
			err = more(m.inSize, m.OutputSize())
		}
		return n, err
	}
	// Keras builds an unbuilt model from the first batch's shape; here the
	// sample size is len(x)/len(y).
	if len(y) == 0 || len(x)%len(y) != 0 {
		return 0, fmt.Errorf("mlp: %s: %w (len(x) = %d, len(y) = %d do not give a sample size)", what, ErrNotBuilt, len(x), len(y))
	}
	last := m.layers[len(m.layers)-1]
	inSize := len(x) / len(y)
	n, err := checkData(what, x, y, inSize, last.units, true)
	if err == nil && more != nil {
		err = more(inSize, last.units)
	}
	if err != nil {
		return 0, err
	}
	if err := m.build([]int{inSize}); err != nil {
		return 0, err
	}
	return n, nil
}

// TrainOnBatch runs one training step on the whole of x and y, as Keras's
// train_on_batch: it returns the batch's mean loss and accuracy, measured
// before the update. After the first call with the largest batch size it
// allocates nothing. On error the model is unchanged.
func (m *Sequential) TrainOnBatch(x []float32, y []int32) (loss, acc float64, err error) {
	if m.err != nil {
		return 0, 0, m.err
	}
	if err := m.acquire("TrainOnBatch"); err != nil {
		return 0, 0, err
	}
	defer m.release()
	n, err := m.ready("TrainOnBatch", x, y, true, nil)
	if err != nil {
		return 0, 0, err
	}
	if n == 0 {
		return 0, 0, fmt.Errorf("mlp: TrainOnBatch: empty batch")
	}
	if err := m.checkTraining("TrainOnBatch", n, m.slots); err != nil {
		return 0, 0, err
	}
	if err := m.checkIterations("TrainOnBatch", 1); err != nil {
		return 0, 0, err
	}
	if err := m.prepareTraining(); err != nil {
		return 0, 0, err
	}
	m.ensure(n)
	lossSum, correct := m.step(x, y, n)
	l := float32(lossSum / float64(n))
	a := float32(correct) / float32(n)
	return float64(l), float64(a), nil
}

// Predict writes the model's outputs for the n samples of x into out, which
// must hold exactly n × OutputSize values: the softmax probabilities for
// the tutorial's models, in input order. It works in batches of 32 and,
// once warmed up, allocates nothing. It needs no Compile.
func (m *Sequential) Predict(x, out []float32) error {
	if err := m.startInference("Predict"); err != nil {
		return err
	}
	defer m.release()
	units := m.OutputSize()
	if len(out)%units == 0 && wrongWidth(len(x), len(out)/units, m.inSize) {
		return fmt.Errorf("mlp: Predict: %s", widthFault(len(x), len(out)/units, m.inSize, true, "rows of out"))
	}
	n, err := checkData("Predict", x, nil, m.inSize, 0, false)
	if err != nil {
		return err
	}
	if len(out) != n*units {
		return fmt.Errorf("mlp: Predict: len(out) = %d, need %d (%d samples × %d outputs)", len(out), n*units, n, units)
	}
	const batch = 32
	m.ensure(min(batch, max(n, 1)))
	for s := 0; s < n; s += batch {
		rows := min(batch, n-s)
		m.forward(x[s*m.inSize:(s+rows)*m.inSize], rows, true, false, out[s*units:(s+rows)*units])
	}
	return nil
}

// PredictClasses writes the predicted class of each sample of x into dst,
// which must hold exactly one entry per sample: the index of the largest
// output, the first one on a tie, as np.argmax(model.predict(x), axis=-1)
// gives it in Keras. It runs the forward pass as Predict does (batches of
// 32, no allocation once warmed up) and needs no Compile.
func (m *Sequential) PredictClasses(x []float32, dst []int32) error {
	if err := m.startInference("PredictClasses"); err != nil {
		return err
	}
	defer m.release()
	if len(x)%m.inSize != 0 || wrongWidth(len(x), len(dst), m.inSize) {
		return fmt.Errorf("mlp: PredictClasses: %s", widthFault(len(x), len(dst), m.inSize, true, "entries in dst"))
	}
	n, err := checkData("PredictClasses", x, nil, m.inSize, 0, false)
	if err != nil {
		return err
	}
	if len(dst) != n {
		return fmt.Errorf("mlp: PredictClasses: len(dst) = %d, need one entry for each of the %d samples", len(dst), n)
	}
	const batch = 32
	m.ensure(min(batch, max(n, 1)))
	units := m.OutputSize()
	for s := 0; s < n; s += batch {
		rows := min(batch, n-s)
		out := m.forward(x[s*m.inSize:(s+rows)*m.inSize], rows, true, false, nil)
		kernels.Argmax(dst[s:s+rows], out[:rows*units], rows, units)
	}
	return nil
}

// startInference checks what the method what needs to run the forward
// pass and takes the model; on success the caller must release it.
func (m *Sequential) startInference(what string) error {
	if m.err != nil {
		return m.err
	}
	if !m.built {
		return fmt.Errorf("mlp: %s: %w", what, ErrNotBuilt)
	}
	if err := m.acquire(what); err != nil {
		return err
	}
	if len(m.dense) == 0 {
		m.release()
		return fmt.Errorf("mlp: %s: model %q has no Dense layer", what, m.name)
	}
	return nil
}
