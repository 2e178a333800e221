// Package ptrace is the only place in ckpt that issues ptrace(2) requests.
//
// The kernel binds a tracee to the thread that attached it, not to the
// process: every later request must come from that same thread. Go moves
// goroutines between threads freely, so a Tracer owns one goroutine locked to
// its OS thread for its whole life, and every method sends its request there.
// The thread is never unlocked; it exits with the Tracer, and the kernel then
// detaches whatever is still attached (or kills it, with PTRACE_O_EXITKILL).
// wait4(2) is the exception: any thread of the tracer's process may wait for
// its tracees (kernel/exit.c: do_wait() looks at every thread of the group),
// so Wait runs on the caller's goroutine and does not hold up other requests.
//
// The reverse also holds, and bites: when a tracee is also a child of this
// process, any thread that waits for it (os/exec's Cmd.Wait, even with only
// WEXITED) is treated as its tracer and collects its ptrace stops
// (kernel/exit.c: wait_consider_task(), "traced by its real parent's
// group"). Nothing may wait for such a child while the Tracer works on it.
//
// The Tracer keeps a little state per tracee: the options it was seized
// with, the kind of stop it was last seen in, whether it was attached
// automatically as a new child, and a signal the tracer made it swallow on
// the way to a stop, which Detach delivers again.
//
// Syscall injection (Session) runs a system call inside a stopped thread by
// pointing its registers at a syscall instruction already mapped in it and
// stepping it from syscall-entry-stop to syscall-exit-stop: no code is
// written into the tracee and none of its user code runs.
//
// Memory is read and written through process_vm_readv(2) and
// /proc/PID/mem, which need no stopped tracee and no tracer thread.
//
// Lock order: Tracer.mu is a leaf; it is never held across a ptrace or wait
// call.
package ptrace
