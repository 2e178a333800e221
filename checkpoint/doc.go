// Package checkpoint writes a running process into a ckpt image.
//
// The pipeline (Dump) reads as a table of contents:
//
//	seize     stop every thread with PTRACE_SEIZE + PTRACE_INTERRUPT
//	collect   read what /proc and ptrace can tell from outside; ask the task
//	          itself (injected syscalls, no code blob) for the rest; refuse
//	          objects a task outside also holds (leaks.go)
//	write     header, task, shared objects, memory, threads, tail
//	release   detach (leave running) or kill, only after the tail is written
//
// Anything the engine does not understand is refused with an
// *UnsupportedError naming the task, the object and the reason; a failed
// checkpoint detaches every thread and leaves the process as it was.
//
// All ptrace requests go through one internal/ptrace.Tracer, whose OS
// thread is the only tracer of the seized tasks.
package checkpoint
