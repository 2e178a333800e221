package ptrace

import "sync/atomic"

// Counters of this process's tracer work, for the --debug log and the
// profiles in bench/notes.md: what a checkpoint or restore costs per task
// is mostly round trips to stopped threads.
var (
	injectedSyscalls atomic.Uint64
	waits            atomic.Uint64
)

// Stats returns how many syscalls were injected and how many ptrace stops
// were waited for, so far, by every Tracer of this process.
func Stats() (injected, waited uint64) {
	return injectedSyscalls.Load(), waits.Load()
}
