package ptrace

import (
	"runtime"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/internal/kernel"
)

// Tracer owns the OS thread that every ptrace request goes out from.
// Its methods may be called from any goroutine.
type Tracer struct {
	reqs   chan request
	stop   chan struct{} // closed by Close
	done   chan struct{} // closed when the tracer thread is about to exit
	thread int           // kernel tid of the tracer thread

	closeOnce sync.Once

	mu    sync.Mutex
	tasks map[int]*task // guarded by mu
}

type request struct {
	fn  func() error
	res chan error
}

// stopKind is what a tracee was last seen doing, as far as the Tracer knows.
type stopKind int

const (
	running      stopKind = iota // resumed, or nothing waited for yet
	stopEvent                    // PTRACE_EVENT_STOP: interrupt, group-stop, new child's first stop
	stopSignal                   // signal-delivery-stop
	stopSyscall                  // syscall-entry-stop or syscall-exit-stop
	stopPtraceEv                 // PTRACE_EVENT_FORK, _CLONE, _EXEC, _EXIT, ...
)

type task struct {
	opts     int  // PTRACE_O_* in effect, -1 if unknown
	newChild bool // attached by the kernel with its parent's options; first stop not seen yet
	stop     stopKind
	stopSig  int         // the signal of a stopSignal stop
	pending  *pendingSig // swallowed on the way to a stop; Detach delivers it again
}

type pendingSig struct {
	sig  int
	info kernel.Siginfo
}

// New starts a tracer thread.
func New() (*Tracer, error) {
	t := &Tracer{
		reqs:  make(chan request),
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
		tasks: map[int]*task{},
	}
	ready := make(chan struct{})
	go t.loop(ready)
	<-ready
	return t, nil
}

func (t *Tracer) loop(ready chan<- struct{}) {
	// Never unlocked: when this goroutine returns, the Go runtime ends the
	// thread instead of reusing it, and the kernel releases its tracees.
	runtime.LockOSThread()
	t.thread = unix.Gettid()
	close(ready)
	for {
		select {
		case r := <-t.reqs:
			r.res <- r.fn()
		case <-t.stop:
			close(t.done)
			return
		}
	}
}

// Close ends the tracer thread. Tracees still attached are detached by the
// kernel as the thread exits (killed, if seized with PTRACE_O_EXITKILL);
// a signal recorded for re-delivery on Detach is lost.
func (t *Tracer) Close() {
	t.closeOnce.Do(func() { close(t.stop) })
	<-t.done
}

// Do runs fn on the tracer thread and returns its error. Calls from fn back
// into the Tracer run directly, so fn may use the Tracer's methods.
func (t *Tracer) Do(fn func() error) error {
	// A goroutine locked to a thread is the only one that thread runs, so
	// being on the tracer thread means being inside a request.
	if unix.Gettid() == t.thread {
		return fn()
	}
	r := request{fn: fn, res: make(chan error, 1)}
	select {
	case t.reqs <- r:
		return <-r.res
	case <-t.done:
		return ErrClosed
	}
}

// lookup returns tid's state, creating it for a task we meet for the first
// time (one attached through Do, say).
func (t *Tracer) lookup(tid int) *task {
	t.mu.Lock()
	defer t.mu.Unlock()
	st := t.tasks[tid]
	if st == nil {
		st = &task{opts: -1}
		t.tasks[tid] = st
	}
	return st
}

func (t *Tracer) known(tid int) (task, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	st := t.tasks[tid]
	if st == nil {
		return task{}, false
	}
	return *st, true
}

func (t *Tracer) forget(tid int) {
	t.mu.Lock()
	delete(t.tasks, tid)
	t.mu.Unlock()
}

func (t *Tracer) update(tid int, f func(st *task)) {
	st := t.lookup(tid)
	t.mu.Lock()
	f(st)
	t.mu.Unlock()
}

func (t *Tracer) setRunning(tid int) {
	t.update(tid, func(st *task) { st.stop, st.stopSig = running, 0 })
}

// observe records what a wait status says about tid.
func (t *Tracer) observe(tid int, ws unix.WaitStatus) {
	if ws.Exited() || ws.Signaled() {
		t.forget(tid)
		return
	}
	if !ws.Stopped() {
		return
	}
	kind, sig := classify(ws)
	t.update(tid, func(st *task) {
		st.stop, st.stopSig = kind, 0
		if kind == stopSignal {
			st.stopSig = sig
		}
		if kind == stopEvent {
			st.newChild = false
		}
	})
}

// PendingStopSig returns the signal tid was about to receive when SeizeStop
// (or a Session) stopped it, which Detach(tid, 0) delivers again; 0 if none.
func (t *Tracer) PendingStopSig(tid int) int {
	st, ok := t.known(tid)
	if !ok || st.pending == nil {
		return 0
	}
	return st.pending.sig
}
