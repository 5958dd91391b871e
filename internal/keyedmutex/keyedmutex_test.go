package keyedmutex

import (
	"sync"
	"testing"
)

func TestMutex(t *testing.T) {
	var k Mutex
	counts := map[string]int{}
	var wg sync.WaitGroup
	for i := range 200 {
		key := []string{"a", "b", "c"}[i%3]
		wg.Go(func() {
			unlock := k.Lock(key)
			counts[key]++ // guarded by the key's lock; the race detector checks
			unlock()
		})
	}
	wg.Wait()
	if counts["a"]+counts["b"]+counts["c"] != 200 {
		t.Errorf("counts = %v", counts)
	}
	if len(k.m) != 0 {
		t.Errorf("%d entries left after every unlock, want 0", len(k.m))
	}
}
