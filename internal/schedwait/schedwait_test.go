package schedwait

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestBusy: goroutines that keep every processor busy make the process
// busy; a quiet process is not.
func TestBusy(t *testing.T) {
	m := New()
	var stop atomic.Bool
	var wg sync.WaitGroup
	for range 8 * runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for !stop.Load() {
				spun.Add(spin())
				runtime.Gosched() // ready again at once, behind the others
			}
		})
	}
	deadline := time.Now().Add(10 * time.Second)
	busy := false
	for !busy && time.Now().Before(deadline) {
		time.Sleep(Window)
		busy = m.Busy()
	}
	stop.Store(true)
	wg.Wait()
	if !busy {
		t.Fatal("Busy() = false with every processor saturated")
	}

	time.Sleep(Window)
	m.Busy() // the window with the end of the load
	time.Sleep(Window)
	if m.Busy() {
		t.Error("Busy() = true in a quiet window")
	}
}

// TestBusyReusesAReading: within Window, Busy answers the last reading.
func TestBusyReusesAReading(t *testing.T) {
	m := New()
	now := time.Now()
	m.now = func() time.Time { return now }
	m.read, m.busy = now, true
	if !m.Busy() {
		t.Error("Busy() within Window of a busy reading = false")
	}
	now = now.Add(Window)
	if m.Busy() {
		t.Error("Busy() of a quiet window = true")
	}
}

// spun keeps spin's work from being optimized away.
var spun atomic.Uint64

func spin() uint64 {
	x := uint64(1)
	for i := range 20000 {
		x = x*6364136223846793005 + uint64(i)
	}
	return x
}
