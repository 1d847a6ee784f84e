package mlp

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/simdmlp/simdmlp/kernels"
)

// refLoss is the mean sparse categorical cross-entropy of the model given
// by w (Keras's order) on x, y, computed in float64 without the kernels.
func refLoss(w [][]float64, acts []string, in int, x []float32, y []int32) float64 {
	return refLossMasked(w, acts, in, x, y, nil)
}

// refLossMasked is refLoss with Dropout before some Dense layers: masks[l],
// when masks and masks[l] are not nil, multiplies Dense layer l's input
// element by element (0 for a dropped unit, 1/(1-rate) for a kept one), as
// the layer saw it during the training step.
func refLossMasked(w [][]float64, acts []string, in int, x []float32, y []int32, masks [][]float64) float64 {
	n := len(y)
	var total float64
	for i := range n {
		a := make([]float64, in)
		for k := range in {
			a[k] = float64(x[i*in+k])
		}
		for l := range acts {
			if masks != nil && masks[l] != nil {
				width := len(a)
				for k := range a {
					a[k] *= masks[l][i*width+k]
				}
			}
			W, b := w[2*l], w[2*l+1]
			units := len(b)
			z := make([]float64, units)
			for j := range units {
				s := b[j]
				for k := range a {
					s += a[k] * W[k*units+j]
				}
				z[j] = s
			}
			if l == len(acts)-1 {
				mx := math.Inf(-1)
				for _, v := range z {
					mx = math.Max(mx, v)
				}
				var sum float64
				for _, v := range z {
					sum += math.Exp(v - mx)
				}
				total += math.Log(sum) - (z[y[i]] - mx)
				break
			}
			switch acts[l] {
			case "relu":
				for j := range z {
					z[j] = math.Max(z[j], 0)
				}
			case "sigmoid":
				for j := range z {
					z[j] = 1 / (1 + math.Exp(-z[j]))
				}
			case "tanh":
				for j := range z {
					z[j] = math.Tanh(z[j])
				}
			case "softmax":
				mx := math.Inf(-1)
				for _, v := range z {
					mx = math.Max(mx, v)
				}
				var sum float64
				for j := range z {
					z[j] = math.Exp(z[j] - mx)
					sum += z[j]
				}
				for j := range z {
					z[j] /= sum
				}
			case "linear":
			default:
				panic("refLoss has no float64 reference for activation " + acts[l])
			}
			a = z
		}
	}
	return total / float64(n)
}

// TestGradientCheck compares the gradients the kernels compute (forward,
// fused softmax cross-entropy, backward through every activation) with
// central finite differences of a float64 reference loss, on a model with
// two hidden layers and a partial-looking batch of 5.
func TestGradientCheck(t *testing.T) {
	for _, level := range kernels.Available() {
		restore, err := kernels.Use(level)
		if err != nil {
			t.Fatal(err)
		}
		for _, hidden := range kernels.ActivationNames() {
			acts := []string{hidden, "tanh", "softmax"}
			SetRandomSeed(11)
			m := NewSequential("", Dense(6, hidden, InputShape(4)), Dense(5, "tanh"), Dense(3, "softmax"))
			r := rand.New(rand.NewPCG(3, 4))
			const n = 5
			x := make([]float32, n*4)
			for i := range x {
				x[i] = float32(r.NormFloat64())
			}
			y := []int32{0, 2, 1, 2, 0}
			// Non-zero biases exercise the bias gradient.
			w := m.Weights()
			for i := 1; i < len(w); i += 2 {
				for j := range w[i] {
					w[i][j] = float32(0.3 * r.NormFloat64())
				}
			}
			if err := m.SetWeights(w); err != nil {
				t.Fatal(err)
			}
			m.ensure(n)
			lossSum, _ := m.lossAndGrad(x, y, n)
			m.backward(x, n)

			checkGradients(t, level+"/"+hidden, m, lossSum/n, func(w64 [][]float64) float64 {
				return refLoss(w64, acts, 4, x, y)
			})
		}
		restore()
	}
}

// checkGradients compares the loss and the weight gradients of m's last
// training step (lossAndGrad and backward, on weights that are the
// model's) with a float64 reference loss of the weights and its central
// finite differences.
func checkGradients(t *testing.T, label string, m *Sequential, loss float64, ref func(w64 [][]float64) float64) {
	t.Helper()
	w := m.Weights()
	w64 := make([][]float64, len(w))
	for i := range w {
		w64[i] = make([]float64, len(w[i]))
		for j := range w[i] {
			w64[i][j] = float64(w[i][j])
		}
	}
	if r := ref(w64); math.Abs(loss-r) > 1e-5*math.Max(1, r) {
		t.Errorf("%s: loss %v, float64 reference %v", label, loss, r)
	}
	const h = 1e-5
	for p := range w64 {
		for j := range w64[p] {
			orig := w64[p][j]
			w64[p][j] = orig + h
			up := ref(w64)
			w64[p][j] = orig - h
			down := ref(w64)
			w64[p][j] = orig
			num := (up - down) / (2 * h)
			if got := float64(m.ws.grads[p][j]); math.Abs(got-num) > 1e-5+1e-3*math.Abs(num) {
				t.Errorf("%s: gradient of %s[%d] = %v, finite difference %v", label, m.WeightNames()[p], j, got, num)
			}
		}
	}
}
