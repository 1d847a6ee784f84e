package kernels

import (
	"unsafe"

	"github.com/klauspost/cpuid/v2"

	"github.com/simdmlp/simdmlp/internal/freelist"
)

// gemmKernel describes one level's GEMM micro-kernel and the cache blocking
// the driver uses around it. The driver (gemm) follows BLIS: five loops in
// Go over NC columns of C, KC steps of k and MC rows of C, packing a KC×NC
// block of op(B) and an MC×KC block of op(A) into contiguous panels, then
// calling Micro once per MR×NR tile of C, or Block once per packed block.
// Packing absorbs the transpositions, so one micro-kernel serves all four
// cases.
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

	// Block, when not nil, replaces the driver's loops over the tiles of
	// one packed block (see gemmTiles) with a single call: it computes,
	// for i < m ≤ MC and j < n ≤ NC, the same sums as Micro, where a holds
	// ceil(m/MR) packed A panels back to back and b ceil(n/NR) packed B
	// panels, and c starts at the block's first element. Assembly levels
	// set it, so that one call covers a whole block instead of one call
	// per tile.
	Block func(kc int, a, b, c []float32, ldc int, alpha, beta float32, m, n int)

	// PackT, when not nil, replaces packTransposed for a full panel of
	// an untransposed A (MR rows, the panel's kc×MR elements): it sets
	// panel[p*MR+i] = src[i*ld+p] for i < MR, p < kc.
	PackT func(panel, src []float32, ld, kc int)
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
	// A KC×NR panel of B gets two thirds of L1D; the rest holds the A
	// panel and the C tile as they stream through. The speed is flat
	// around the KC this gives, so the rule needs no finer tuning
	// (bench/README.md, "Blocking (KC)").
	kc = min(max(l1*2/3/(4*nr), 64), kcMax)
	// An MC×KC block of A gets half of L2, the rest is for B panels in
	// flight.
	mc = max(l2/2/(4*kc)/mr*mr, mr)
	// NC only bounds the packed B block (KC×NC floats, L3-sized); 4096
	// columns is what BLIS uses for its x86 kernels.
	nc = max(4096/nr*nr, nr)
	return mc, kc, nc
}

// gemmWork is one call's packing workspace, or the workspace of one part
// of a call split over several cores. Workspaces are recycled through
// gemmWorks so that Sgemm allocates only until the buffers have grown to
// the largest problem seen; each concurrent caller and each worker part
// gets its own.
type gemmWork struct {
	a, b []float32
}

var gemmWorks freelist.List[gemmWork]

func getGemmWork() *gemmWork  { return gemmWorks.Get() }
func putGemmWork(w *gemmWork) { gemmWorks.Put(w) }

// growAligned returns buf resliced to n elements whose first element is
// 64-byte aligned, reallocating only when buf is too small. In aligned B
// panels every zmm load of a k step (and every pair of ymm loads) lies in
// one cache line instead of straddling two.
func growAligned(buf []float32, n int) []float32 {
	if cap(buf) >= n {
		return buf[:n]
	}
	const align = 64 / 4 // in float32s
	raw := make([]float32, n+align-1)
	off := int(-uintptr(unsafe.Pointer(unsafe.SliceData(raw))) % 64 / 4)
	return raw[off : off+n : off+n]
}

// gemm is the blocked driver behind Sgemm. Its arguments are checked;
// m, n, k ≥ 1 and alpha != 0. A large product is split into blocks of
// whole tiles of C, rows or columns, one per thread (see gemmJob); the
// rest runs on the calling goroutine.
func gemm(g *gemmKernel, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	// Splitting the rows of C has every part pack all of op(B), splitting
	// the columns all of op(A); the split that copies less is taken. One
	// part per thread, because of that copy: every further part packs the
	// shared operand again, which costs most on the trainer's small
	// products (bench/README.md, "Splitting a product over threads").
	splitN := n > m
	units := ceilDiv(m, g.MR)
	if splitN {
		units = ceilDiv(n, g.NR)
	}
	if parts, threads := splitParts(m*n*k, units, 1); parts > 1 {
		j := gemmJobs.Get()
		j.gemmArgs = gemmArgs{g, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc}
		j.splitN = splitN
		j.prepare(parts, threads)
		j.run(j, parts, threads)
		j.gemmArgs = gemmArgs{}
		gemmJobs.Put(j)
		return
	}
	w := getGemmWork()
	gemmSerial(g, w, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	putGemmWork(w)
}

// gemmArgs are the arguments of one gemm call.
type gemmArgs struct {
	g              *gemmKernel
	transA, transB bool
	m, n, k        int
	alpha          float32
	a              []float32
	lda            int
	b              []float32
	ldb            int
	beta           float32
	c              []float32
	ldc            int
}

// gemmJob is one gemm call split over cores: part i of n computes the
// i-th block of rows (or columns, with splitN) of C, a whole number of
// MR×NR tiles, with the serial driver. The k blocking depends on k alone
// and every element of C is summed by the same micro-kernel in the same
// order whichever block it falls in, so the result does not depend on
// the number of parts. k is never split: that would change the order.
type gemmJob struct {
	fork
	gemmArgs
	splitN bool
	// ws holds one packing workspace per goroutine taking part (the
	// caller is slot 0), grown before the fork to fit the largest part:
	// which goroutine runs which part varies from call to call, and a
	// workspace that grew only when a worker happened to help would
	// make a warmed-up call allocate.
	ws []*gemmWork
}

var gemmJobs freelist.List[gemmJob]

// prepare grows the workspaces of every slot for the largest part.
func (j *gemmJob) prepare(parts, threads int) {
	slots := min(parts, threads)
	for len(j.ws) < slots {
		j.ws = append(j.ws, new(gemmWork))
	}
	for _, w := range j.ws[:slots] {
		for i := range parts {
			m, n := j.m, j.n
			if j.splitN {
				lo, hi := blockRange(i, parts, j.n, j.g.NR)
				n = hi - lo
			} else {
				lo, hi := blockRange(i, parts, j.m, j.g.MR)
				m = hi - lo
			}
			w.grow(j.g, j.transA, m, n, j.k)
		}
	}
}

func (j *gemmJob) part(i, parts, slot int) {
	g := j.g
	w := j.ws[slot]
	if j.splitN {
		lo, hi := blockRange(i, parts, j.n, g.NR)
		if lo >= hi {
			return
		}
		boff := lo
		if j.transB {
			boff = lo * j.ldb
		}
		gemmSerial(g, w, j.transA, j.transB, j.m, hi-lo, j.k, j.alpha, j.a, j.lda, j.b[boff:], j.ldb, j.beta, j.c[lo:], j.ldc)
		return
	}
	lo, hi := blockRange(i, parts, j.m, g.MR)
	if lo >= hi {
		return
	}
	aoff := lo * j.lda
	if j.transA {
		aoff = lo
	}
	gemmSerial(g, w, j.transA, j.transB, hi-lo, j.n, j.k, j.alpha, j.a[aoff:], j.lda, j.b, j.ldb, j.beta, j.c[lo*j.ldc:], j.ldc)
}

// blockRange returns part i of n of the range [0, size) cut into nearly
// equal runs of whole units of unit elements (the last unit may be
// short).
func blockRange(i, n, size, unit int) (lo, hi int) {
	units := ceilDiv(size, unit)
	lo = min(size, units*i/n*unit)
	hi = min(size, units*(i+1)/n*unit)
	return lo, hi
}

// gemmBlocking returns the block sizes gemmSerial uses for an m×n×k
// product: k is split into equal blocks of at most KC rather than
// KC-sized blocks plus a short tail, so that no block is dominated by the
// per-tile overhead; likewise m and n.
func gemmBlocking(g *gemmKernel, m, n, k int) (mc, nc, kc int) {
	kc = ceilDiv(k, ceilDiv(k, g.KC))
	nc = min(g.NC, roundUp(ceilDiv(n, ceilDiv(n, g.NC)), g.NR))
	mc = min(g.MC, roundUp(ceilDiv(m, ceilDiv(m, g.MC)), g.MR))
	return mc, nc, kc
}

// grow makes w's panels large enough for gemmSerial on an m×n×k product.
func (w *gemmWork) grow(g *gemmKernel, transA bool, m, n, k int) {
	mc, nc, kc := gemmBlocking(g, m, n, k)
	w.b = growAligned(w.b, kc*roundUp(min(n, nc), g.NR))
	// With one-row A panels, the rows of an untransposed A are already
	// packed panels: the micro-kernel reads them in place.
	if g.MR != 1 || transA {
		w.a = growAligned(w.a, kc*roundUp(min(m, mc), g.MR))
	}
}

// gemmSerial is gemm on the calling goroutine, packing into w.
func gemmSerial(g *gemmKernel, w *gemmWork, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	mr, nr := g.MR, g.NR
	mc, nc, kc := gemmBlocking(g, m, n, k)
	directA := mr == 1 && !transA
	w.grow(g, transA, m, n, k)

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
			bp := w.b[:kcur*roundUp(ncur, nr)]
			packB(bp, transB, b, ldb, pc, jc, kcur, ncur, nr)
			for ic := 0; ic < m; ic += mc {
				mcur := min(mc, m-ic)
				cb := c[ic*ldc+jc:]
				switch {
				case directA:
					gemmTilesDirect(g, kcur, a[ic*lda+pc:], lda, bp, cb, ldc, alpha, betaCur, mcur, ncur)
				case g.Block != nil:
					ap := w.a[:kcur*roundUp(mcur, mr)]
					packA(ap, transA, a, lda, ic, pc, mcur, kcur, mr, g.PackT)
					g.Block(kcur, ap, bp, cb, ldc, alpha, betaCur, mcur, ncur)
				default:
					ap := w.a[:kcur*roundUp(mcur, mr)]
					packA(ap, transA, a, lda, ic, pc, mcur, kcur, mr, g.PackT)
					gemmTiles(g, kcur, ap, bp, cb, ldc, alpha, betaCur, mcur, ncur)
				}
			}
		}
	}
}

// gemmTiles is the macro-kernel of levels without a Block: one Micro call
// per MR×NR tile of an m×n block, B panels outside so that each stays in
// L1 while the A panels stream past it.
func gemmTiles(g *gemmKernel, kc int, a, b, c []float32, ldc int, alpha, beta float32, m, n int) {
	mr, nr := g.MR, g.NR
	for jr := 0; jr < n; jr += nr {
		bp := b[jr*kc : (jr+nr)*kc]
		nlive := min(nr, n-jr)
		for ir := 0; ir < m; ir += mr {
			g.Micro(kc, a[ir*kc:(ir+mr)*kc], bp, c[ir*ldc+jr:], ldc, alpha, beta, min(mr, m-ir), nlive)
		}
	}
}

// gemmTilesDirect is gemmTiles for one-row tiles reading an untransposed
// A in place: a starts at the block's first element, rows lda apart.
func gemmTilesDirect(g *gemmKernel, kc int, a []float32, lda int, b, c []float32, ldc int, alpha, beta float32, m, n int) {
	nr := g.NR
	for jr := 0; jr < n; jr += nr {
		bp := b[jr*kc : (jr+nr)*kc]
		nlive := min(nr, n-jr)
		for i := range m {
			g.Micro(kc, a[i*lda:i*lda+kc], bp, c[i*ldc+jr:], ldc, alpha, beta, 1, nlive)
		}
	}
}

// packB copies the kc×nc block of op(B) starting at row pc, column jc into
// dst as ceil(nc/nr) panels of kc×nr, each k-major (the nr elements of one
// k step contiguous), zero-padding the last panel to nr columns.
func packB(dst []float32, trans bool, b []float32, ldb, pc, jc, kc, nc, nr int) {
	for jr := 0; jr < nc; jr += nr {
		panel := dst[jr*kc : (jr+nr)*kc]
		cols := min(nr, nc-jr)
		if trans {
			// op(B)[p, j] = b[j*ldb+p]: column j of the panel is a
			// contiguous run of row j of B.
			packTransposed(panel, b[(jc+jr)*ldb+pc:], ldb, cols, nr, kc)
		} else {
			// Row p of the panel is a contiguous run of row p of B.
			packRuns(panel, b[pc*ldb+jc+jr:], ldb, cols, nr, kc)
		}
	}
}

// packA copies the mc×kc block of op(A) starting at row ic, column pc into
// dst as ceil(mc/mr) panels of mr×kc, each k-major (the mr elements of one
// k step contiguous), zero-padding the last panel to mr rows. packT, if
// not nil, is the level's gemmKernel.PackT.
func packA(dst []float32, trans bool, a []float32, lda, ic, pc, mc, kc, mr int, packT func(panel, src []float32, ld, kc int)) {
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
		switch {
		case trans:
			// op(A)[i, p] = a[p*lda+i]: the rows of one k step are a
			// contiguous run of a row of A.
			packRuns(panel, a[pc*lda+ic+ir:], lda, rows, mr, kc)
		case rows == mr && packT != nil:
			packT(panel, a[(ic+ir)*lda+pc:], lda, kc)
		default:
			packTransposed(panel, a[(ic+ir)*lda+pc:], lda, rows, mr, kc)
		}
	}
}

// panelRow lists the panel widths of 32 and 64 columns, which get a
// copy loop of their own in packRuns.
type panelRow interface {
	[32]float32 | [64]float32
}

// packRuns fills a kc×width panel from kc runs of w ≤ width contiguous
// elements, run p starting at src[p*ld], zero-padding each row of the
// panel past w.
//
// Full runs of the tiles' narrower widths (MR 6 and 8, NR 12, 14 and 16)
// are copied element by element, unrolled: Go copies an array through a
// pointer by calling memmove (the two might overlap), which for 24 to 64
// bytes costs more than the copy. BenchmarkPack measures the difference.
func packRuns(panel, src []float32, ld, w, width, kc int) {
	panel = panel[:kc*width]
	if w == width {
		switch width {
		case 6:
			copyRuns6(panel, src, ld, kc)
			return
		case 8:
			copyRuns8(panel, src, ld, kc)
			return
		case 12:
			copyRuns12(panel, src, ld, kc)
			return
		case 14:
			copyRuns14(panel, src, ld, kc)
			return
		case 16:
			copyRuns16(panel, src, ld, kc)
			return
		case 32:
			copyRuns[[32]float32](panel, src, ld, kc)
			return
		case 64:
			copyRuns[[64]float32](panel, src, ld, kc)
			return
		}
	}
	for p := range kc {
		d := panel[p*width : (p+1)*width]
		copy(d[:w], src[p*ld:p*ld+w])
		clear(d[w:])
	}
}

// copyRuns is packRuns for a full panel of width len(T), each run one
// fixed-size array copy. Go converts a slice to a type-parameter array but
// not to a pointer to one; the destination's reslice checks its bounds, so
// the pointer conversion stays inside panel.
func copyRuns[T panelRow](panel, src []float32, ld, kc int) {
	var z T
	width := len(z)
	for p := range kc {
		d := panel[p*width : (p+1)*width]
		*(*T)(unsafe.Pointer(unsafe.SliceData(d))) = T(src[p*ld:])
	}
}

// copyRuns6 to copyRuns16 are packRuns for full panels of 6 to 16
// columns.
func copyRuns6(panel, src []float32, ld, kc int) {
	for p := range kc {
		s := src[p*ld : p*ld+6 : p*ld+6]
		d := panel[p*6 : p*6+6 : p*6+6]
		d[0], d[1], d[2], d[3], d[4], d[5] = s[0], s[1], s[2], s[3], s[4], s[5]
	}
}

func copyRuns8(panel, src []float32, ld, kc int) {
	for p := range kc {
		s := src[p*ld : p*ld+8 : p*ld+8]
		d := panel[p*8 : p*8+8 : p*8+8]
		d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7] = s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]
	}
}

func copyRuns12(panel, src []float32, ld, kc int) {
	for p := range kc {
		s := src[p*ld : p*ld+12 : p*ld+12]
		d := panel[p*12 : p*12+12 : p*12+12]
		d[0], d[1], d[2], d[3], d[4], d[5] = s[0], s[1], s[2], s[3], s[4], s[5]
		d[6], d[7], d[8], d[9], d[10], d[11] = s[6], s[7], s[8], s[9], s[10], s[11]
	}
}

func copyRuns14(panel, src []float32, ld, kc int) {
	for p := range kc {
		s := src[p*ld : p*ld+14 : p*ld+14]
		d := panel[p*14 : p*14+14 : p*14+14]
		d[0], d[1], d[2], d[3], d[4], d[5], d[6] = s[0], s[1], s[2], s[3], s[4], s[5], s[6]
		d[7], d[8], d[9], d[10], d[11], d[12], d[13] = s[7], s[8], s[9], s[10], s[11], s[12], s[13]
	}
}

func copyRuns16(panel, src []float32, ld, kc int) {
	for p := range kc {
		s := src[p*ld : p*ld+16 : p*ld+16]
		d := panel[p*16 : p*16+16 : p*16+16]
		d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7] = s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]
		d[8], d[9], d[10], d[11], d[12], d[13], d[14], d[15] = s[8], s[9], s[10], s[11], s[12], s[13], s[14], s[15]
	}
}

// packTransposed fills a kc×width panel from w ≤ width rows of kc
// contiguous elements, row i starting at src[i*ld] and becoming column i
// of the panel; columns w… are zeroed. Four rows at a time, so that each
// k step stores four adjacent elements under one bounds check.
func packTransposed(panel, src []float32, ld, w, width, kc int) {
	panel = panel[:kc*width]
	i := 0
	for ; i+4 <= w; i += 4 {
		r0 := src[i*ld:][:kc]
		r1 := src[(i+1)*ld:][:kc]
		r2 := src[(i+2)*ld:][:kc]
		r3 := src[(i+3)*ld:][:kc]
		d := panel[i:]
		for p := range r0 {
			q := p * width
			x := d[q : q+4 : q+4]
			x[0], x[1], x[2], x[3] = r0[p], r1[p], r2[p], r3[p]
		}
	}
	for ; i+2 <= w; i += 2 {
		r0 := src[i*ld:][:kc]
		r1 := src[(i+1)*ld:][:kc]
		d := panel[i:]
		for p := range r0 {
			q := p * width
			x := d[q : q+2 : q+2]
			x[0], x[1] = r0[p], r1[p]
		}
	}
	if i < w {
		r0 := src[i*ld:][:kc]
		for p, v := range r0 {
			panel[p*width+i] = v
		}
		i++
	}
	if i < width {
		for p := range kc {
			clear(panel[p*width+i : (p+1)*width])
		}
	}
}
func ceilDiv(a, b int) int { return (a + b - 1) / b }

func roundUp(a, b int) int { return ceilDiv(a, b) * b }
