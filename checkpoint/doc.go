// Package checkpoint writes a running process into a ckpt image.
//
// The pipeline (Dump) is a table of named steps (dump.go, steps), each
// named in its error ("checkpoint: step collect: task 12: ..."):
//
//	seize     stop every thread with PTRACE_SEIZE + PTRACE_INTERRUPT (with
//	          the cgroup frozen meanwhile, when there is one)
//	collect   read what /proc and ptrace can tell from outside; ask the task
//	          itself (injected syscalls, no code blob) for the rest; refuse
//	          objects a task outside also holds (leaks.go); then the steps
//	          resolving what tasks share (pipes, unix sockets, ttys...), the
//	          files of /proc/PID (files_procpid.go), the namespaces and, for a
//	          process tree, the cgroups of every task and thread (cgroup.go)
//	snapshot  (--leave-running) a copy-on-write copy of each address space
//	release   (--leave-running) detach: the tasks run on
//	write     header, task, shared objects, memory, threads, tail
//	kill      (otherwise) kill the tasks, only after the tail is written
//
// Anything the engine does not understand is refused with an
// *UnsupportedError naming the task, the object and the reason; a failed
// checkpoint undoes what the steps did (their undos, newest first) and
// leaves the process as it was.
//
// All ptrace requests go through one internal/ptrace.Tracer, whose OS
// thread is the only tracer of the seized tasks.
//
// # If ckpt dies
//
// A ckpt killed mid-checkpoint (SIGKILL, the OOM killer, a panic) cannot run
// its undos. The kernel detaches the seized tasks as the tracer exits (they
// are seized without PTRACE_O_EXITKILL) and they carry on from the
// registers they have. The rest is the guardian's (internal/guard): a
// process that receives a journal of what to undo as the steps go, and
// undoes what is left if the journal ends without "done": it thaws the
// frozen cgroup, takes the sockets out of TCP repair mode, unlocks their
// connections (nftables) and kills the --leave-running snapshot copies (they
// are traced with PTRACE_O_EXITKILL, so the kernel has already) and has
// their parents reap them. The tests (integration/crash_test.go) kill ckpt
// with the CKPT_FAULT switch at each phase of FaultPhases and check all of
// that within 2 s.
//
// What the guardian cannot make right, the windows that remain:
//
//   - An injected syscall in flight, for the two that map and unmap the
//     scratch area (injected.go). Every other syscall collect, semops and
//     the namespace steps inject runs from a trampoline in that area
//     (ptrace.Session.UseTrampoline): a thread detached after it, with our
//     registers, restores its signal mask, flags and registers and goes
//     back to where it was (phase checkpoint/collect:injected). The map and
//     unmap run from the vDSO's syscall instruction before the trampoline
//     exists and while it goes: a task detached there runs on from the
//     vDSO with our registers and dies. The snapshot's clone and the
//     reaping of a copy also run from the vDSO (a copy must not run the
//     trampoline's way back into the process's code).
//   - A snapshot copy between its clone and PTRACE_O_EXITKILL being set on
//     it (a few ptrace calls): it runs the process's code if ckpt dies
//     there, and the guardian, which has no entry for it yet, leaves it.
//   - A task using an established connection (in send or recv on it) when
//     ckpt dies runs on before the guardian takes the socket out of repair
//     mode, and gets EINVAL or EPERM; a task waiting in poll, select or
//     epoll (a server) does not notice.
//   - The guardian itself killed along with ckpt (kill of the whole cgroup
//     or of both pids): it runs in a session of its own and ignores the
//     signals of a terminal or a process group, nothing more.
package checkpoint
