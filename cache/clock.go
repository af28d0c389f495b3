package cache

import (
	"sync"
	"sync/atomic"
	"time"
)

// ClockGranularity is how far the clock a cache hit reads may lag the real
// one while the process runs: a value may be served up to this long past
// its expiry. Longer only when the process is starved of CPU, or just after
// a suspended process (a frozen Lambda environment) resumes and before the
// clock's goroutine has run; lambdacache's handler, Cache.NewContext and
// every miss advance it to the real time.
//
// Reading the system clock costs more than the rest of a hit together (80
// ns on a loaded virtual machine), so a hit reads a copy of it from memory
// that a background goroutine advances at this interval. The goroutine
// runs for a second each time a hit finds it stopped, and such a hit reads
// the real clock, so an idle process has no timer firing a thousand times
// a second. An injected Options.Clock is read on every hit instead.
const ClockGranularity = time.Millisecond

// clockTicks is how many ticks the goroutine makes after it is woken.
const clockTicks = 1000

// coarseClock is monotonic time since base, in nanoseconds, kept in memory.
// While running is true, now lags the real clock by at most about
// ClockGranularity, more only if the goroutine is starved of CPU or the
// process is suspended (a frozen Lambda environment) until the goroutine
// runs again; lambdacache advances it at the start of every invocation.
type coarseClock struct {
	base    time.Time
	source  func() int64 // the real clock, as an offset from base
	now     atomic.Int64
	running atomic.Bool
	tick    func() // starts the goroutine; tests step the clock by hand
}

var (
	processClockOnce sync.Once
	processClockVal  *coarseClock
)

// processClock returns the coarse clock every cache on the system clock
// shares.
func processClock() *coarseClock {
	processClockOnce.Do(func() {
		k := &coarseClock{base: time.Now()}
		k.source = func() int64 { return int64(time.Since(k.base)) }
		k.tick = func() { go k.run() }
		processClockVal = k
	})
	return processClockVal
}

// read returns the time. Once the goroutine has stopped it reads the real
// clock itself, so the answer is never older than a granularity plus a
// scheduling delay.
func (k *coarseClock) read() int64 {
	if k.running.Load() {
		return k.now.Load()
	}
	return k.wake()
}

func (k *coarseClock) wake() int64 {
	n := k.source()
	k.advance(n)
	if k.running.CompareAndSwap(false, true) {
		k.tick()
	}
	return n
}

// advance moves the clock forward to n; it never goes back.
func (k *coarseClock) advance(n int64) {
	for {
		old := k.now.Load()
		if n <= old || k.now.CompareAndSwap(old, n) {
			return
		}
	}
}

func (k *coarseClock) run() {
	t := time.NewTicker(ClockGranularity)
	defer t.Stop()
	for range clockTicks {
		<-t.C
		k.advance(k.source())
	}
	// Readers that still see running read now, which was just advanced;
	// those that see it false read the real clock.
	k.running.Store(false)
}
