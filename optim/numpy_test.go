package optim

import (
	"math"
	"testing"
)

// TestAgainstNumpy checks three steps of each optimizer on a 4-element
// tensor against values computed independently with numpy 1.24.2 (Debian's
// python3-numpy) in float32, writing Keras 2.14's update_step formulas out
// by hand. The script, run with /usr/bin/python3:
//
//	import numpy as np
//	f = np.float32
//	theta0 = np.array([0.5, -1.25, 2.0, 0.0], dtype=f)
//	grads = [np.array([0.1, -0.2, 0.3, -0.4], dtype=f),
//	         np.array([-0.5, 0.25, 1.5, 0.05], dtype=f),
//	         np.array([0.02, -0.03, -0.7, 2.5], dtype=f)]
//	def show(name, *arrs):
//	    print(name)
//	    for a in arrs:
//	        print("  {" + ", ".join(repr(float(x)) for x in a) + "},")
//
//	# Adam()
//	th = theta0.copy(); m = np.zeros(4, f); v = np.zeros(4, f)
//	lr, b1, b2, eps = f(0.001), f(0.9), f(0.999), f(1e-7)
//	for i, g in enumerate(grads):
//	    t = f(i + 1)
//	    p1 = np.power(b1, t); p2 = np.power(b2, t)
//	    alpha = lr * np.sqrt(f(1) - p2) / (f(1) - p1)
//	    m = m + (g - m) * f(1 - 0.9)
//	    v = v + (g * g - v) * f(1 - 0.999)
//	    th = th - (m * alpha) / (np.sqrt(v) + eps)
//	show("adam theta, m, v", th, m, v)
//
//	# RMSprop()
//	th = theta0.copy(); v = np.zeros(4, f)
//	lr, rho, omr, eps = f(0.001), f(0.9), f(1 - 0.9), f(1e-7)
//	for g in grads:
//	    v = rho * v + omr * (g * g)
//	    th = th - (lr * g) * (f(1) / np.sqrt(v + eps))
//	show("rmsprop theta, v", th, v)
//
//	# RMSprop(momentum=0.5, centered=True)
//	th = theta0.copy(); v = np.zeros(4, f); mg = np.zeros(4, f); mom = np.zeros(4, f)
//	mu = f(0.5)
//	for g in grads:
//	    v = rho * v + omr * (g * g)
//	    mg = rho * mg + omr * g
//	    d = (v - mg * mg) + eps
//	    inc = (lr * g) * (f(1) / np.sqrt(d))
//	    mom = mu * mom + inc
//	    th = th - mom
//	show("rmsprop centered momentum theta, v, mg, mom", th, v, mg, mom)
//
//	# Adagrad()
//	th = theta0.copy(); a = np.full(4, f(0.1), f)
//	lr, eps = f(0.001), f(1e-7)
//	for g in grads:
//	    a = a + g * g
//	    th = th - (lr * g) / np.sqrt(a + eps)
//	show("adagrad theta, acc", th, a)
//
//	# SGD(momentum=0.9, nesterov=True)
//	th = theta0.copy(); m = np.zeros(4, f)
//	lr, mu = f(0.01), f(0.9)
//	for g in grads:
//	    m = -g * lr + m * mu
//	    th = th + (-g * lr + m * mu)
//	show("sgd nesterov theta, m", th, m)
//
// numpy's float32 square root is correctly rounded, 1/np.sqrt rounds twice
// as Keras's rsqrt is written in the kernels' reference, and np.power on
// float32 scalars is glibc's powf, which for these small t gives the
// correctly rounded powers this package computes. The generic kernels
// round every operation to float32 in the same order, so every value must
// match exactly.
func TestAgainstNumpy(t *testing.T) {
	pinGeneric(t)
	theta0 := []float32{0.5, -1.25, 2.0, 0.0}
	grads := [][]float32{
		{0.1, -0.2, 0.3, -0.4},
		{-0.5, 0.25, 1.5, 0.05},
		{0.02, -0.03, -0.7, 2.5},
	}
	for _, c := range []struct {
		opt   Optimizer
		want  [][]float32 // θ, then the slots in the script's order
		slots func(u Updater) [][]float32
	}{
		{
			opt: Adam{},
			want: [][]float32{
				{0.5000355243682861, -1.2492283582687378, 1.9977997541427612, 0.0010122134117409587},
				{-0.0348999984562397, 0.0032999992836266756, 0.0892999991774559, 0.22210000455379486},
				{0.0002601300075184554, 0.00010325755283702165, 0.0028275703079998493, 0.00641217827796936},
			},
			slots: func(u Updater) [][]float32 { a := u.(*adamUpdater); return [][]float32{a.m[0], a.v[0]} },
		},
		{
			opt: RMSprop{},
			want: [][]float32{
				{0.49981382489204407, -1.249039649963379, 1.9951069355010986, -0.0003802673891186714},
				{0.023350000381469727, 0.008954999968409538, 0.2587900161743164, 0.6381850242614746},
			},
			slots: func(u Updater) [][]float32 { return [][]float32{u.(*rmspropUpdater).v[0]} },
		},
		{
			opt: RMSprop{Momentum: 0.5, Centered: true},
			want: [][]float32{
				{0.49885183572769165, -1.2476372718811035, 1.9905554056167603, 0.0019344096072018147},
				{0.023350000381469727, 0.008954999968409538, 0.2587900161743164, 0.6381850242614746},
				{-0.0348999984562397, 0.003299999050796032, 0.0892999991774559, 0.22210000455379486},
				{-0.000638703117147088, 0.00011208554496988654, 0.001105280825868249, 0.0026382245123386383},
			},
			slots: func(u Updater) [][]float32 {
				r := u.(*rmspropUpdater)
				return [][]float32{r.v[0], r.mg[0], r.mom[0]}
			},
		},
		{
			opt: Adagrad{},
			want: [][]float32{
				{0.5004985332489014, -1.2499544620513916, 1.998760461807251, -0.0002927648019976914},
				{0.3604000210762024, 0.20340000092983246, 2.930000066757202, 6.512499809265137},
			},
			slots: func(u Updater) [][]float32 { return [][]float32{u.(*adagradUpdater).acc[0]} },
		},
		{
			opt: SGD{Momentum: 0.9, Nesterov: true},
			want: [][]float32{
				{0.5097310543060303, -1.2493269443511963, 1.9623329639434814, -0.03509899601340294},
				{0.003490000031888485, -0.00032999986433424056, -0.00892999954521656, -0.022209998220205307},
			},
			slots: func(u Updater) [][]float32 { return [][]float32{u.(*sgdUpdater).m[0]} },
		},
	} {
		u, err := c.opt.Build([]int{4})
		if err != nil {
			t.Fatal(err)
		}
		theta := [][]float32{append([]float32(nil), theta0...)}
		for _, g := range grads {
			u.Step(theta, [][]float32{append([]float32(nil), g...)})
		}
		got := append([][]float32{theta[0]}, c.slots(u)...)
		if len(got) != len(c.want) {
			t.Fatalf("%v: %d tensors to compare, want %d", c.opt, len(got), len(c.want))
		}
		for k := range c.want {
			for j := range c.want[k] {
				if math.Float32bits(got[k][j]) != math.Float32bits(c.want[k][j]) {
					t.Errorf("%v: tensor %d (0 = θ, then slots) [%d] = %v, numpy %v", c.opt, k, j, got[k][j], c.want[k][j])
				}
			}
		}
	}
}
