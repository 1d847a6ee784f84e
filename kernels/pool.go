package kernels

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// threadSetting is what SetThreads last stored: 0 for the default.
var threadSetting atomic.Int64

// maxThreads bounds SetThreads: each thread beyond the first is a parked
// goroutine that lives for the rest of the program.
const maxThreads = 1024

// SetThreads sets how many cores one large kernel call may use: Sgemm and
// DenseForward split a large C into independent blocks of rows or
// columns, the optimizer steps and GatherRows split large arrays into
// blocks of elements or rows, and they hand all but one block to a
// persistent pool of worker goroutines.
// n ≤ 0 restores the default, min(GOMAXPROCS, runtime.NumCPU()) read at
// each call; n is capped at 1024. Problems too small to gain from a
// second core (the trainer's batch-32 products among them) run on the
// calling goroutine whatever the setting.
//
// The thread count changes how the work is divided, never the result:
// every element of C is summed in the same order whatever the count, so
// results are bit-identical for any n.
//
// It returns the previous setting, 0 meaning the default, so that
//
//	defer kernels.SetThreads(kernels.SetThreads(2))
//
// restores it exactly. SetThreads may be called at any time, also while
// other goroutines run kernels; a call already running keeps the count it
// started with.
func SetThreads(n int) (prev int) {
	if n < 0 {
		n = 0
	}
	return int(threadSetting.Swap(int64(min(n, maxThreads))))
}

// Threads returns the number of cores one large kernel call may use now:
// the SetThreads setting, or min(GOMAXPROCS, runtime.NumCPU()) by default.
// (It does not consult cpuid's core count, which inside a virtual machine
// can describe the host rather than the CPUs this process may use.)
func Threads() int {
	if n := threadSetting.Load(); n > 0 {
		return int(n)
	}
	return max(1, min(runtime.GOMAXPROCS(0), runtime.NumCPU()))
}

// forkBody is the work of one fork: part(i, n, slot) computes part i of
// n. The parts of one fork must be independent (disjoint outputs), so
// that they may run in any order, on any goroutine. slot numbers the
// goroutine running the part among those taking part in the fork (the
// caller is 0, helpers 1 to threads-1), so that each may use a
// workspace of its own.
type forkBody interface {
	part(i, n, slot int)
}

// fork runs the parts of one call on the calling goroutine and on idle
// workers. Each part is claimed by whoever gets to it first, so a call
// never waits for a busy worker: whatever no worker takes, the caller
// runs itself. Slot s first tries parts s, s+stride, … (stride being the
// number of slots planned), then any part left: when consecutive calls
// split the same rows the same way (the trainer's batch gather, then the
// forward product on it), each core then tends to work on the rows
// already in its own cache. A fork lives inside a recycled job object,
// which keeps the call allocation-free.
type fork struct {
	body    forkBody
	parts   int
	stride  int
	claimed []atomic.Bool
	// wg counts the workers holding this fork; the caller waits for all
	// of them to let go before the job object is reused. running counts
	// those that have started on it, which the caller spins for rather
	// than park (see run).
	wg      sync.WaitGroup
	running atomic.Int32
	// joined hands out the helpers' slot numbers.
	joined atomic.Int32
}

// workers is the pool. A worker that has just finished a part spins for
// a short while watching the offer slot, then parks on the unbuffered
// jobs channel. A caller hands its fork to a spinning worker through the
// slot (no wake-up at all: the trainer's split products come tens of
// microseconds apart), else to a parked one by a send that succeeds only
// when a worker is waiting, which is how it tells an idle worker from a
// busy one.
//
// Waking a parked goroutine is slow when it matters: Go queues it on the
// waker's own P, where it runs only once another P steals it (a few
// microseconds on an idle machine, far longer when other processes hold
// the cores).
var workers struct {
	sync.Mutex
	started  atomic.Int32
	jobs     chan *fork
	offer    atomic.Pointer[fork]
	spinning atomic.Int32
}

// spinTime is how long a worker watches the offer slot before parking:
// longer than the gaps between the split calls of a training step (the
// small products, activations and optimizer between them), short enough
// that a worker idles only briefly on a core other programs may want.
const spinTime = 100 * time.Microsecond

func init() {
	workers.jobs = make(chan *fork)
}

// startWorkers makes sure the pool has at least n workers. They are never
// stopped: a parked goroutine costs a few KiB and no CPU.
func startWorkers(n int) {
	if int(workers.started.Load()) >= n {
		return
	}
	workers.Lock()
	defer workers.Unlock()
	for int(workers.started.Load()) < n {
		go worker(workers.jobs)
		workers.started.Add(1)
	}
}

func worker(jobs <-chan *fork) {
	for {
		f := spinForOffer()
		if f == nil {
			f = <-jobs
		}
		f.running.Add(1)
		f.work(int(f.joined.Add(1)))
		f.running.Add(-1)
		f.wg.Done()
		// Done may have woken the caller, which Go then queues on this
		// P: let it run here now instead of after our spinning.
		runtime.Gosched()
	}
}

// spinForOffer watches the offer slot for up to spinTime and returns the
// fork it took, or nil. With GOMAXPROCS = 1 it returns at once: a
// spinning worker would hold the only P the caller needs.
func spinForOffer() *fork {
	if runtime.GOMAXPROCS(0) < 2 {
		return nil
	}
	workers.spinning.Add(1)
	defer workers.spinning.Add(-1)
	start := time.Now()
	for i := 0; ; i++ {
		if f := workers.offer.Load(); f != nil && workers.offer.CompareAndSwap(f, nil) {
			return f
		}
		if i%64 == 63 && time.Since(start) > spinTime {
			return nil
		}
	}
}

// run computes parts 0..parts-1 of body with up to threads-1 idle
// workers, and returns when every part is done.
func (f *fork) run(body forkBody, parts, threads int) {
	forkedParts.Add(int64(parts))
	f.body = body
	f.parts = parts
	if len(f.claimed) < parts {
		f.claimed = make([]atomic.Bool, parts)
	}
	for i := range f.claimed[:parts] {
		f.claimed[i].Store(false)
	}
	f.joined.Store(0)
	helpers := min(parts, threads) - 1
	f.stride = helpers + 1
	startWorkers(helpers)
	// At most one helper comes through the offer slot: the fork sits in
	// it until a spinning worker takes it or the caller withdraws it.
	offered := false
	for range helpers {
		f.wg.Add(1)
		if !offered && workers.spinning.Load() > 0 && workers.offer.CompareAndSwap(nil, f) {
			offered = true
			continue
		}
		select {
		case workers.jobs <- f:
			workersTook.Add(1)
			continue
		default:
		}
		// No worker is parked. One may be on its way back from the
		// previous call's part (between its Done and its spinning, a
		// window back-to-back calls hit often): it will find the fork in
		// the offer slot and take part of ours. Without that, the caller
		// would run every part alone while a core sat idle.
		if !offered && workers.offer.CompareAndSwap(nil, f) {
			offered = true
			continue
		}
		// Every worker is busy: the caller does the rest itself.
		f.wg.Done()
		break
	}
	f.work(0)
	if offered {
		if workers.offer.CompareAndSwap(f, nil) {
			// No worker came; nothing is left to do anyway.
			f.wg.Done()
		} else {
			workersTook.Add(1)
		}
	}
	// Workers still running their last parts, which take no longer than
	// ours did, are waited for by spinning rather than parking: a parked
	// caller is woken onto the worker's P, behind the worker. A worker
	// handed the fork that has not started (woken onto our P, its core
	// taken by another process) is waited for by parking at once: it
	// then runs here, finds nothing left and lets go.
	if f.running.Load() > 0 && runtime.GOMAXPROCS(0) > 1 {
		start := time.Now()
		for i := 0; f.running.Load() > 0; i++ {
			if i%64 == 63 && time.Since(start) > spinTime {
				break
			}
		}
	}
	f.wg.Wait()
	f.body = nil
}

// work claims and runs parts until none is left, as the given slot: its
// own parts first, then any other.
func (f *fork) work(slot int) {
	for i := slot; i < f.parts; i += f.stride {
		if f.claimed[i].CompareAndSwap(false, true) {
			f.body.part(i, f.parts, slot)
		}
	}
	for i := range f.parts {
		if f.claimed[i].CompareAndSwap(false, true) {
			f.body.part(i, f.parts, slot)
		}
	}
}

// splitParts says into how many parts to split work of macs
// multiply-adds over units independent blocks (tiles of rows or columns):
// perThread parts per thread, but only as many as keep each part above
// minPartMACs, and never more than there are blocks; one thread means no
// split. More than one part per thread lets the caller take over part of
// a worker's share when that worker starts late or its core is busy with
// another process, at the price of whatever each part repeats (see the
// callers). It also returns the thread count it read, for fork.run.
func splitParts(macs, units, perThread int) (parts, threads int) {
	if macs < 2*minPartMACs || units < 2 {
		return 1, 1
	}
	threads = Threads()
	if threads < 2 {
		return 1, 1
	}
	return min(perThread*threads, macs/minPartMACs, units), threads
}

// minPartMACs is the least work worth handing to another core: a part
// this size runs long enough, even on the fastest level, for the cost of
// waking a parked worker to stay a small fraction of it (bench/README.md,
// "Splitting a product over threads"). The trainer's batch-32 products
// stay on one core. Tests lower it to split small problems.
var minPartMACs = 4 << 20

// forkedParts counts the parts of every fork run so far and workersTook
// the forks handed to workers; tests read them to see that a call was
// split and that the pool works.
var forkedParts, workersTook atomic.Int64
