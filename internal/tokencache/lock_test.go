package tokencache

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const (
	envHelper  = "TOKENCACHE_TEST_HELPER"
	envDir     = "TOKENCACHE_TEST_DIR"
	envCounter = "TOKENCACHE_TEST_COUNTER"
	envStart   = "TOKENCACHE_TEST_START"

	raceHost = "127.0.0.1:5000"
)

// countingRefresh returns a refresh that appends a line to counter (shared
// by all processes) for each call, takes a while, and returns a fresh
// session entry.
func countingRefresh(counter string, calls *atomic.Int32) func(context.Context) (Entry, error) {
	return func(ctx context.Context) (Entry, error) {
		if calls != nil {
			calls.Add(1)
		}
		f, err := os.OpenFile(counter, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return Entry{}, err
		}
		fmt.Fprintf(f, "refresh by pid %d\n", os.Getpid())
		if err := f.Close(); err != nil {
			return Entry{}, err
		}
		// Long enough that every other caller arrives while we hold the lock.
		select {
		case <-time.After(200 * time.Millisecond):
		case <-ctx.Done():
			return Entry{}, ctx.Err()
		}
		now := time.Now()
		return Entry{Kind: KindSession, Token: "fresh", Identity: "id", Issued: now, Expiry: now.Add(time.Hour)}, nil
	}
}

func refreshCount(t *testing.T, counter string) int {
	t.Helper()
	data, err := os.ReadFile(counter)
	if errors.Is(err, os.ErrNotExist) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(data), "\n")
}

// expiredCache returns a cache whose entry for raceHost has expired.
func expiredCache(t *testing.T) *Cache {
	t.Helper()
	c := openTest(t, WithLockPolling(time.Millisecond, 20*time.Millisecond))
	if err := c.Put(raceHost, Entry{Kind: KindSession, Token: "stale", Expiry: time.Now().Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestHelperProcess is the body of each subprocess in
// TestGetOrRefreshOneRefresh; it does nothing when run normally.
func TestHelperProcess(t *testing.T) {
	if os.Getenv(envHelper) != "1" {
		t.Skip("helper process only")
	}
	c, err := Open(os.Getenv(envDir), WithLockPolling(time.Millisecond, 20*time.Millisecond))
	if err != nil {
		t.Fatalf("Open() = %v", err)
	}
	start := os.Getenv(envStart)
	for deadline := time.Now().Add(30 * time.Second); ; {
		if _, err := os.Stat(start); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("start signal never came")
		}
		time.Sleep(time.Millisecond)
	}
	e, err := c.GetOrRefresh(t.Context(), raceHost, 0, countingRefresh(os.Getenv(envCounter), nil))
	if err != nil || e.Token != "fresh" {
		t.Fatalf("GetOrRefresh() = %v, %v, want the fresh entry", e, err)
	}
}

// TestGetOrRefreshOneRefresh: 16 goroutines and 16 processes call
// GetOrRefresh at once on an expired entry; exactly one refreshes.
func TestGetOrRefreshOneRefresh(t *testing.T) {
	tests := []struct {
		name       string
		goroutines int
		processes  int
	}{
		{name: "16 goroutines", goroutines: 16},
		{name: "16 processes", processes: 16},
		{name: "16 goroutines and 16 processes", goroutines: 16, processes: 16},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := expiredCache(t)
			tmp := t.TempDir()
			counter := filepath.Join(tmp, "refreshes")
			start := filepath.Join(tmp, "start")

			var cmds []*exec.Cmd
			var outs []*strings.Builder
			for range tt.processes {
				cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1", "-test.v")
				cmd.Env = append(os.Environ(), envHelper+"=1", envDir+"="+c.Dir(), envCounter+"="+counter, envStart+"="+start)
				out := new(strings.Builder)
				cmd.Stdout, cmd.Stderr = out, out
				if err := cmd.Start(); err != nil {
					t.Fatalf("start helper process: %v", err)
				}
				cmds, outs = append(cmds, cmd), append(outs, out)
			}

			var calls atomic.Int32
			var wg sync.WaitGroup
			gate := make(chan struct{})
			for range tt.goroutines {
				wg.Go(func() {
					<-gate
					e, err := c.GetOrRefresh(t.Context(), raceHost, 0, countingRefresh(counter, &calls))
					if err != nil || e.Token != "fresh" {
						t.Errorf("GetOrRefresh() = %v, %v, want the fresh entry", e, err)
					}
				})
			}
			if err := os.WriteFile(start, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			close(gate)
			wg.Wait()
			for i, cmd := range cmds {
				if err := cmd.Wait(); err != nil {
					t.Errorf("helper process %d: %v\n%s", i, err, outs[i])
				} else if !strings.Contains(outs[i].String(), "--- PASS: TestHelperProcess") {
					t.Errorf("helper process %d did not run the helper:\n%s", i, outs[i])
				}
			}
			if n := refreshCount(t, counter); n != 1 {
				t.Errorf("%d refreshes, want exactly 1", n)
			}
			if tt.processes == 0 && calls.Load() != 1 {
				t.Errorf("refresh called %d times in process, want 1", calls.Load())
			}
		})
	}
}

func TestGetOrRefresh(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	fresh := Entry{Kind: KindSession, Token: "fresh", Expiry: now.Add(time.Hour)}
	tests := []struct {
		name        string
		cached      *Entry
		minLife     time.Duration
		refreshErr  error
		want        Entry
		wantErr     error
		wantRefresh bool
	}{
		{name: "empty cache refreshes", want: fresh, wantRefresh: true},
		{name: "warm cache does not refresh", cached: &Entry{Kind: KindSession, Token: "warm", Expiry: now.Add(30 * time.Minute)},
			want: Entry{Kind: KindSession, Token: "warm", Expiry: now.Add(30 * time.Minute)}},
		{name: "stored entry does not refresh", cached: &Entry{Kind: KindStored, Token: "pull"},
			want: Entry{Kind: KindStored, Token: "pull"}},
		{name: "under default min life refreshes", cached: &Entry{Kind: KindSession, Token: "old", Expiry: now.Add(7 * time.Minute)},
			want: fresh, wantRefresh: true},
		{name: "explicit min life overrides default", cached: &Entry{Kind: KindSession, Token: "old", Expiry: now.Add(7 * time.Minute)},
			minLife: time.Minute, want: Entry{Kind: KindSession, Token: "old", Expiry: now.Add(7 * time.Minute)}},
		{name: "refresh error is returned as is", cached: &Entry{Kind: KindSession, Token: "old", Expiry: now.Add(-time.Minute)},
			refreshErr: errLogin, wantErr: errLogin, wantRefresh: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := openTest(t, WithClock(func() time.Time { return now }), WithMinLife(10*time.Minute))
			if tt.cached != nil {
				if err := c.Put("example.com", *tt.cached); err != nil {
					t.Fatal(err)
				}
			}
			refreshed := false
			got, err := c.GetOrRefresh(t.Context(), "example.com", tt.minLife, func(context.Context) (Entry, error) {
				refreshed = true
				return fresh, tt.refreshErr
			})
			if !errors.Is(err, tt.wantErr) || !sameEntry(got, tt.want) {
				t.Errorf("GetOrRefresh() = %v, %v, want %v, %v", got, err, tt.want, tt.wantErr)
			}
			if refreshed != tt.wantRefresh {
				t.Errorf("refreshed = %v, want %v", refreshed, tt.wantRefresh)
			}
			if tt.wantErr == nil {
				if e, err := c.Get("example.com"); err != nil || !sameEntry(e, tt.want) {
					t.Errorf("Get() = %v, %v, want %v", e, err, tt.want)
				}
			}
		})
	}
}

var errLogin = errors.New("login required")

// holdLock takes host's lock in another goroutine until release is closed.
func holdLock(t *testing.T, c *Cache, host string) (release func()) {
	t.Helper()
	held, done, stop := make(chan struct{}), make(chan error, 1), make(chan struct{})
	go func() {
		done <- c.WithLock(context.WithoutCancel(t.Context()), host, func() error {
			close(held)
			<-stop
			return nil
		})
	}()
	select {
	case <-held:
	case err := <-done:
		t.Fatalf("WithLock() = %v", err)
	}
	return func() {
		close(stop)
		if err := <-done; err != nil {
			t.Errorf("WithLock() = %v", err)
		}
	}
}

func TestWithLockContext(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		ctx     func(context.Context) (context.Context, context.CancelFunc)
		wantErr error
	}{
		{name: "deadline while waiting", wantErr: context.DeadlineExceeded,
			ctx: func(ctx context.Context) (context.Context, context.CancelFunc) {
				return context.WithTimeout(ctx, 150*time.Millisecond)
			}},
		{name: "cancel while waiting", wantErr: context.Canceled,
			ctx: func(ctx context.Context) (context.Context, context.CancelFunc) {
				ctx, cancel := context.WithCancel(ctx)
				time.AfterFunc(100*time.Millisecond, cancel)
				return ctx, cancel
			}},
		{name: "already cancelled", wantErr: context.Canceled,
			ctx: func(ctx context.Context) (context.Context, context.CancelFunc) {
				ctx, cancel := context.WithCancel(ctx)
				cancel()
				return ctx, cancel
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := openTest(t, WithLockPolling(time.Millisecond, 10*time.Millisecond))
			release := holdLock(t, c, raceHost)
			ctx, cancel := tt.ctx(t.Context())
			defer cancel()

			begin := time.Now()
			called := false
			err := c.WithLock(ctx, raceHost, func() error { called = true; return nil })
			if !errors.Is(err, tt.wantErr) || called {
				t.Errorf("WithLock() = %v, called %v; want %v, not called", err, called, tt.wantErr)
			}
			if d := time.Since(begin); d > 5*time.Second {
				t.Errorf("WithLock() returned after %v", d)
			}
			refreshed := false
			_, err = c.GetOrRefresh(ctx, raceHost, 0, func(context.Context) (Entry, error) {
				refreshed = true
				return Entry{}, nil
			})
			if !errors.Is(err, tt.wantErr) || refreshed {
				t.Errorf("GetOrRefresh() = %v, refreshed %v; want %v, no refresh", err, refreshed, tt.wantErr)
			}

			release()
			if err := c.WithLock(t.Context(), raceHost, func() error { return nil }); err != nil {
				t.Errorf("WithLock() after release = %v", err)
			}
		})
	}
}

func TestWithLockExcludesAndReleases(t *testing.T) {
	t.Parallel()
	c := openTest(t, WithLockPolling(time.Millisecond, 5*time.Millisecond))
	var inside, maxInside atomic.Int32
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			err := c.WithLock(t.Context(), raceHost, func() error {
				n := inside.Add(1)
				for {
					m := maxInside.Load()
					if n <= m || maxInside.CompareAndSwap(m, n) {
						break
					}
				}
				time.Sleep(2 * time.Millisecond)
				inside.Add(-1)
				return nil
			})
			if err != nil {
				t.Errorf("WithLock() = %v", err)
			}
		})
	}
	wg.Wait()
	if m := maxInside.Load(); m != 1 {
		t.Errorf("%d holders at once, want 1", m)
	}
	// Other hosts do not wait.
	release := holdLock(t, c, raceHost)
	defer release()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	if err := c.WithLock(ctx, "other.example.com", func() error { return nil }); err != nil {
		t.Errorf("WithLock(other host) = %v", err)
	}
	// A panic in fn releases the lock.
	func() {
		defer func() { _ = recover() }()
		_ = c.WithLock(t.Context(), "panic.example.com", func() error { panic("boom") })
	}()
	if err := c.WithLock(ctx, "panic.example.com", func() error { return nil }); err != nil {
		t.Errorf("WithLock() after panic = %v", err)
	}
}
