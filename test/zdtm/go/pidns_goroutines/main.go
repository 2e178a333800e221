// Command pidns_goroutines is the Go scenario: a Go program that
// is pid 1 of its own pid namespace runs 64 goroutines over 8 OS threads
// (GOMAXPROCS=8) doing work, timers and channel traffic, and carries on
// across C/R to a correct result. Producers feed numbered jobs into a
// channel, 64 workers each fold their jobs into a per-worker checksum and
// pass them on to a collector, and a timer goroutine stamps the jobs with
// ticks. After SIGTERM every job sent must have been seen exactly once,
// each worker's checksum must match a recomputation of the jobs it got,
// and the timers must still fire.

//go:debug containermaxprocs=0
//go:debug updatemaxprocs=0
package main

import (
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ckpt/ckpt/test/zdtm/lib/go/zdtm"
)

const (
	workers = 64
	procs   = 8
)

type job struct {
	n      uint64
	worker int
}

// mix is the per-job work: deterministic and a little CPU.
func mix(n uint64) uint64 {
	x := n*0x9e3779b97f4a7c15 + 1
	for range 2000 {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	return x
}

func main() {
	zdtm.Init()
	runtime.GOMAXPROCS(procs)
	if zdtm.NewNS() && os.Getpid() != 1 {
		zdtm.Fail("pid %d, want 1 in the ns flavor", os.Getpid())
	}

	jobs := make(chan uint64, 32)
	done := make(chan job, 32)
	sums := make([]uint64, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range jobs {
				sums[w] += mix(n)
				done <- job{n, w}
			}
		}()
	}

	var sent atomic.Uint64
	stop := make(chan struct{})
	fed := make(chan struct{})
	go func() {
		defer close(fed)
		for n := uint64(1); ; n++ {
			select {
			case jobs <- n:
				sent.Store(n)
			case <-stop:
				close(jobs)
				return
			}
		}
	}()

	byWorker := make([][]uint64, workers)
	seen := map[uint64]int{}
	collected := make(chan struct{})
	go func() {
		defer close(collected)
		for j := range done {
			seen[j.n]++
			byWorker[j.worker] = append(byWorker[j.worker], j.n)
		}
	}()

	var ticks atomic.Uint64
	ticker := time.NewTicker(2 * time.Millisecond)
	go func() {
		for range ticker.C {
			ticks.Add(1)
		}
	}()
	for sent.Load() < 1000 {
		time.Sleep(time.Millisecond)
	}

	zdtm.Daemon()
	zdtm.WaitSig()

	// Timers still fire after restore.
	t0 := ticks.Load()
	for ticks.Load() < t0+3 {
		time.Sleep(time.Millisecond)
	}
	close(stop)
	<-fed
	wg.Wait()
	close(done)
	<-collected
	if zdtm.Sabotage() {
		sums[workers/2]++
	}

	total := sent.Load()
	if uint64(len(seen)) != total {
		zdtm.Fail("%d distinct jobs done, %d sent", len(seen), total)
	}
	for n, c := range seen {
		if c != 1 || n == 0 || n > total {
			zdtm.Fail("job %d done %d times", n, c)
			break
		}
	}
	for w := range workers {
		var want uint64
		for _, n := range byWorker[w] {
			want += mix(n)
		}
		if sums[w] != want {
			zdtm.Fail("worker %d: checksum %#x, recomputed %#x", w, sums[w], want)
		}
	}
	zdtm.Msg("%d jobs over %d workers, %d ticks", total, workers, ticks.Load())
	zdtm.Pass()
	zdtm.Exit()
}
