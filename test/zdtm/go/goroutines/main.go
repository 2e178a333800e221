// Command goroutines is a Go C/R test program: 64 goroutines over
// GOMAXPROCS=8 hash a stream of jobs fed through channels while a ticker
// and self-rearming timers run. After C/R every job sent must have been
// processed exactly once, the total must match a recomputation, and timers
// must still fire.
//
// The runtime's cgroup-aware GOMAXPROCS keeps two cgroup files open for the
// life of the process; the test sets GOMAXPROCS itself and turns that off,
// so its fds are only the harness's plus the netpoll epoll and eventfd that
// Go timers bring.

//go:debug containermaxprocs=0
//go:debug updatemaxprocs=0
package main

import (
	"crypto/sha256"
	"encoding/binary"
	"runtime"
	"sync"
	"time"

	"github.com/ckpt/ckpt/test/zdtm/lib/go/zdtm"
)

const workers = 64

type result struct {
	n   uint64
	sum uint64
}

// work is the per-job computation: deterministic, and enough CPU that the
// checkpoint lands while goroutines are mid-job.
func work(n uint64) uint64 {
	var b [32]byte
	binary.LittleEndian.PutUint64(b[:], n)
	for range 64 {
		b = sha256.Sum256(b[:])
	}
	return binary.LittleEndian.Uint64(b[:])
}

func main() {
	zdtm.Init()
	runtime.GOMAXPROCS(8)

	jobs := make(chan uint64, 16)
	results := make(chan result, 16)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range jobs {
				results <- result{n, work(n)}
			}
		}()
	}

	var sent uint64
	fed := make(chan struct{})
	go func() {
		defer close(fed)
		for zdtm.Go() {
			sent++
			jobs <- sent
			if sent%64 == 0 {
				time.Sleep(time.Millisecond)
			}
		}
		close(jobs)
	}()

	seen := make(map[uint64]int)
	var total uint64
	collected := make(chan struct{})
	go func() {
		defer close(collected)
		for r := range results {
			seen[r.n]++
			total += r.sum
		}
	}()

	// A ticker and a timer that re-arms itself from its own callback.
	ticker := time.NewTicker(5 * time.Millisecond)
	var timerFired uint64
	var mu sync.Mutex
	var t *time.Timer
	t = time.AfterFunc(3*time.Millisecond, func() {
		mu.Lock()
		timerFired++
		mu.Unlock()
		t.Reset(3 * time.Millisecond)
	})

	zdtm.Daemon()
	ticks := 0
	for zdtm.Go() {
		select {
		case <-ticker.C:
			ticks++
		case <-zdtm.Stopped():
		}
	}

	<-fed
	wg.Wait()
	close(results)
	<-collected
	if zdtm.Sabotage() {
		total++
	}

	var want uint64
	for n := uint64(1); n <= sent; n++ {
		if seen[n] != 1 {
			zdtm.Fail("job %d processed %d times, want once", n, seen[n])
			break
		}
		want += work(n)
	}
	if len(seen) != int(sent) {
		zdtm.Fail("%d distinct jobs processed, %d sent", len(seen), sent)
	}
	if total != want {
		zdtm.Fail("total %#x, recomputed %#x", total, want)
	}
	// Timers must still fire after restore: wait for three more ticks and
	// one more run of the self-rearming timer.
	for range 3 {
		<-ticker.C
	}
	mu.Lock()
	before := timerFired
	mu.Unlock()
	for {
		time.Sleep(10 * time.Millisecond)
		mu.Lock()
		after := timerFired
		mu.Unlock()
		if after > before {
			break
		}
	}
	zdtm.Msg("%d jobs, %d ticks, %d timer runs", sent, ticks, before)
	zdtm.Pass()
	zdtm.Exit()
}
