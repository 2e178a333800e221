// Package restore rebuilds processes from a ckpt image.
//
// The restorer is a ptrace-driven controller. A task is grown from a stub:
// a two-page static ELF generated in memory, executed from a memfd, that
// closes a sync fd and then sleeps in pause(2). The controller seizes the
// stub and, by injecting clone3 with set_tid, makes the task with its
// original pid. Everything else is done by syscalls injected into that
// task, one at a time, from a syscall instruction in a scratch page the
// controller maps at an address the image leaves free:
//
//	layout    unmap the stub, move [vvar]/[vdso] to their saved addresses,
//	          map every VMA
//	pages     fill memory: pread(2) in the task straight from the image file
//	          when it is a regular file, process_vm_writev(2) from a pipe
//	mm        mprotect to the saved protections, PR_SET_MM_MAP (mm fields,
//	          auxv, exe link)
//	cgroups   before the first task, the image's cgroups below ckpt's own
//	          (or Options.CgroupRoot) are made and limited as the mode
//	          says; each process is moved in once the tree exists, each
//	          thread placed apart once it exists (cgroup.go)
//	files     open files in the task, give them their fd numbers and offsets
//	fs        working directory, then the root of a chrooted task
//	          (chroot.go)
//	state     signal handlers, timers, personality, rlimits, session
//	threads   clone3(CLONE_THREAD, set_tid) for every other thread; POSIX
//	          timers with their ids; seccomp filters; per thread tid
//	          address, robust list, rseq, sigaltstack, queued signals,
//	          credentials, then all of them read back (creds.go)
//	finalize  unmap the scratch page; registers, XSAVE state and signal
//	          mask last; detach every thread at once
//
// With Options.Lazy the pages step leaves private anonymous memory empty:
// the task's userfaultfd (made by an injected syscall right after layout)
// is handed to a page server process that fills it on first touch and in
// the background, and outlives the restore (lazy.go, package lazypages,
// docs/lazy-restore.md).
//
// No code of ours is left in the restored task. Until the final detach the
// tasks are traced with PTRACE_O_EXITKILL, and any failure kills them: a
// failed restore leaves nothing half-alive. They are also traced with
// PTRACE_O_SUSPEND_SECCOMP, so the seccomp filters restore installs do not
// judge the syscalls it injects after them.
//
// The image is not trusted (docs/security.md). Privileges come from a
// Grant (privs.go): the bundle's spec when restoring into a container, the
// caller's own credentials otherwise. Every task's credentials, limits and
// scheduling are checked against it before the first task exists (and
// again as each record arrives), and read back before any task runs.
//
// Once the image is read, finish runs a table of named steps (finalize.go:
// unix sockets, ipc, tasks, ttys, tcp, release), and within "tasks" a table
// of steps per task; a failure names its step ("restore: step tasks: task
// 12: seccomp: ...").
//
// # If ckpt dies
//
// The tasks die with ckpt (PTRACE_O_EXITKILL); the stub, before it is
// traced, by its parent-death signal. Release itself is covered by the
// guardian (internal/guard): every task made is in its journal, and if ckpt
// dies before the restore is done (some tasks let go, others not) the
// guardian kills them all. A container restore (runtime) journals the
// container too: the guardian removes its state and cgroups. The cgroups
// a process restore made are journalled before the tasks (so undone after
// them): the guardian removes them once the tasks it killed are out. A file
// moved out of the way of a unix socket bound for the time of the restore
// (files_unix_aside.go) is journaled as well: the guardian puts it back.
// The tests
// (integration/crash_test.go) kill ckpt at each phase of FaultPhases.
package restore
