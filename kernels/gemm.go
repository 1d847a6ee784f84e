package kernels

import (
	"sync"

	"github.com/klauspost/cpuid/v2"
)

// gemmKernel describes one level's GEMM micro-kernel and the cache blocking
// the driver uses around it. The driver (gemm) follows BLIS: five loops in
// Go over NC columns of C, KC steps of k and MC rows of C, packing a KC×NC
// block of op(B) and an MC×KC block of op(A) into contiguous panels, then
// calling Micro once per MR×NR tile of C. Packing absorbs the
// transpositions, so one micro-kernel serves all four cases.
type gemmKernel struct {
	// MR×NR is the tile of C one Micro call computes.
	MR, NR int
	// MC, KC and NC are the cache blocks: an MC×KC block of packed A is
	// meant to stay in L2 and a KC×NR panel of packed B in L1. MC is a
	// multiple of MR and NC a multiple of NR.
	MC, KC, NC int

	// Micro computes, for i < m and j < n,
	//
	//	C[i*ldc+j] = alpha·Σ_{p<kc} a[p*MR+i]·b[p*NR+j] + beta·C[i*ldc+j]
	//
	// reading C only when beta != 0. a is a packed A panel (MR rows,
	// k-major: the MR elements of step p are contiguous) and b a packed B
	// panel (NR columns, k-major), each holding at least kc·MR and kc·NR
	// elements. kc ≥ 1.
	//
	// Edges: the driver passes 1 ≤ m ≤ MR and 1 ≤ n ≤ NR, the live part of
	// the tile, and c starts at the tile's first element with at least
	// (m-1)·ldc+n elements. The panels are always full: the driver
	// zero-pads the rows and columns beyond m and n, so a kernel may compute
	// the whole MR×NR tile (in registers or into a scratch tile) and store
	// only the m×n live part. It must not touch C outside that part.
	Micro func(kc int, a, b, c []float32, ldc int, alpha, beta float32, m, n int)
}

// gemmBlocks picks MC, KC and NC for an mr×nr micro-kernel from the cache
// sizes the CPU reports, falling back to common sizes (32 KiB L1D, 512 KiB
// L2) when cpuid cannot tell. kcMax bounds KC: past a few hundred steps a
// longer K loop gains nothing and only makes the panels bigger.
func gemmBlocks(mr, nr, kcMax int) (mc, kc, nc int) {
	l1, l2 := cpuid.CPU.Cache.L1D, cpuid.CPU.Cache.L2
	if l1 <= 0 {
		l1 = 32 << 10
	}
	if l2 <= 0 {
		l2 = 512 << 10
	}
	// A KC×NR panel of B gets half of L1D; the other half holds the A
	// panel and the C tile as they stream through.
	kc = min(max(l1/2/(4*nr), 64), kcMax)
	// An MC×KC block of A gets half of L2, the rest is for B panels in
	// flight.
	mc = max(l2/2/(4*kc)/mr*mr, mr)
	// NC only bounds the packed B block (KC×NC floats, L3-sized); 4096
	// columns is what BLIS uses for its x86 kernels.
	nc = max(4096/nr*nr, nr)
	return mc, kc, nc
}

// gemmWork is one call's packing workspace. Workspaces are recycled
// through gemmPool so that Sgemm allocates only until the buffers have
// grown to the largest problem seen; each concurrent caller gets its own.
type gemmWork struct {
	a, b []float32
}

// gemmPool is a plain free list rather than a sync.Pool: a sync.Pool may
// drop its contents at any garbage collection, and then a warmed-up Sgemm
// would allocate (and touch fresh pages) again. The list never holds more
// workspaces than the peak number of concurrent Sgemm calls.
var gemmPool struct {
	sync.Mutex
	free []*gemmWork
}

func getGemmWork() *gemmWork {
	gemmPool.Lock()
	defer gemmPool.Unlock()
	if n := len(gemmPool.free); n > 0 {
		w := gemmPool.free[n-1]
		gemmPool.free = gemmPool.free[:n-1]
		return w
	}
	return new(gemmWork)
}

func putGemmWork(w *gemmWork) {
	gemmPool.Lock()
	gemmPool.free = append(gemmPool.free, w)
	gemmPool.Unlock()
}

// grow returns buf resliced to n elements, reallocating only when its
// capacity is too small.
func grow(buf []float32, n int) []float32 {
	if cap(buf) < n {
		return make([]float32, n)
	}
	return buf[:n]
}

// gemm is the blocked driver behind Sgemm. Its arguments are checked;
// m, n, k ≥ 1 and alpha != 0.
func gemm(g *gemmKernel, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	mr, nr := g.MR, g.NR

	// Split k into equal blocks of at most KC rather than KC-sized blocks
	// plus a short tail, so that no block is dominated by the per-tile
	// overhead. Likewise for m and n below.
	kBlocks := ceilDiv(k, g.KC)
	kc := ceilDiv(k, kBlocks)
	nc := min(g.NC, roundUp(ceilDiv(n, ceilDiv(n, g.NC)), nr))
	mc := min(g.MC, roundUp(ceilDiv(m, ceilDiv(m, g.MC)), mr))

	// With one-row A panels, the rows of an untransposed A are already
	// packed panels: the micro-kernel reads them in place.
	directA := mr == 1 && !transA

	w := getGemmWork()
	w.b = grow(w.b, kc*roundUp(min(n, nc), nr))
	if !directA {
		w.a = grow(w.a, kc*roundUp(min(m, mc), mr))
	}

	for jc := 0; jc < n; jc += nc {
		ncur := min(nc, n-jc)
		for pc := 0; pc < k; pc += kc {
			kcur := min(kc, k-pc)
			// Only the first k block applies the caller's beta; the later
			// ones add to what the earlier ones stored.
			betaCur := beta
			if pc > 0 {
				betaCur = 1
			}
			packB(w.b, transB, b, ldb, pc, jc, kcur, ncur, nr)
			for ic := 0; ic < m; ic += mc {
				mcur := min(mc, m-ic)
				if !directA {
					packA(w.a, transA, a, lda, ic, pc, mcur, kcur, mr)
				}
				for jr := 0; jr < ncur; jr += nr {
					bp := w.b[jr*kcur : (jr+nr)*kcur]
					nlive := min(nr, ncur-jr)
					for ir := 0; ir < mcur; ir += mr {
						var ap []float32
						if directA {
							off := (ic+ir)*lda + pc
							ap = a[off : off+kcur]
						} else {
							ap = w.a[ir*kcur : (ir+mr)*kcur]
						}
						g.Micro(kcur, ap, bp, c[(ic+ir)*ldc+jc+jr:], ldc, alpha, betaCur, min(mr, mcur-ir), nlive)
					}
				}
			}
		}
	}
	putGemmWork(w)
}

// packB copies the kc×nc block of op(B) starting at row pc, column jc into
// dst as ceil(nc/nr) panels of kc×nr, each k-major (the nr elements of one
// k step contiguous), zero-padding the last panel to nr columns.
func packB(dst []float32, trans bool, b []float32, ldb, pc, jc, kc, nc, nr int) {
	panels := ceilDiv(nc, nr)
	dst = dst[:panels*nr*kc]
	if trans {
		// op(B)[p, j] = b[j*ldb+p]: column j of a panel is a contiguous
		// run of row j of B, stored with stride nr.
		for j := range nc {
			off := (jc+j)*ldb + pc
			d := dst[j/nr*nr*kc+j%nr:]
			q := 0
			for _, v := range b[off : off+kc] {
				d[q] = v
				q += nr
			}
		}
	} else {
		// Row p of the block is contiguous in B: it supplies row p of
		// every panel.
		for p := range kc {
			off := (pc+p)*ldb + jc
			src := b[off : off+nc]
			for jr := 0; jr < nc; jr += nr {
				d := dst[jr*kc+p*nr : jr*kc+p*nr+min(nr, nc-jr)]
				s := src[jr:][:len(d)]
				for j := range d {
					d[j] = s[j]
				}
			}
		}
	}
	if cols := nc - (panels-1)*nr; cols < nr {
		last := dst[(panels-1)*nr*kc:]
		for p := range kc {
			clear(last[p*nr+cols : (p+1)*nr])
		}
	}
}

// packA copies the mc×kc block of op(A) starting at row ic, column pc into
// dst as ceil(mc/mr) panels of mr×kc, each k-major (the mr elements of one
// k step contiguous), zero-padding the last panel to mr rows.
func packA(dst []float32, trans bool, a []float32, lda, ic, pc, mc, kc, mr int) {
	if trans && mr == 1 {
		// One-row panels are the rows of op(A) side by side; walking A
		// row by row reads it contiguously and scatters into them.
		dst = dst[:mc*kc]
		for p := range kc {
			off := (pc+p)*lda + ic
			for i, v := range a[off : off+mc] {
				dst[i*kc+p] = v
			}
		}
		return
	}
	for ir := 0; ir < mc; ir += mr {
		panel := dst[ir*kc : (ir+mr)*kc]
		rows := min(mr, mc-ir)
		if trans {
			// op(A)[i, p] = a[p*lda+i]: the rows of one k step are a
			// contiguous run of a row of A.
			for p := range kc {
				off := (pc+p)*lda + ic + ir
				src := a[off : off+rows]
				d := panel[p*mr : p*mr+rows]
				for i := range d {
					d[i] = src[i]
				}
			}
		} else {
			for i := range rows {
				off := (ic+ir+i)*lda + pc
				for p, v := range a[off : off+kc] {
					panel[p*mr+i] = v
				}
			}
		}
		if rows < mr {
			for p := range kc {
				clear(panel[p*mr+rows : (p+1)*mr])
			}
		}
	}
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

func roundUp(a, b int) int { return ceilDiv(a, b) * b }
