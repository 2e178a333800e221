// Package kernel holds the pieces of the Linux kernel ABI that
// golang.org/x/sys/unix lacks: structs passed to clone3, prctl(PR_SET_MM_MAP),
// rt_sigaction, sigaltstack and ptrace, the x86_64 register set with the
// accessors the syscall-injection engine needs, and facts about the CPU's
// XSAVE area.
//
// Anything unix already defines (PTRACE_* requests, NT_X86_XSTATE,
// PR_SET_MM_MAP, Itimerval, ...) is used from unix under its own name and is
// not repeated here. Each struct mirrors one kernel header, named in the
// comment above it; fields have fixed sizes and explicit padding, and
// layout_unsafe_test.go pins sizes and offsets to the kernel's.
//
// Arch-specific code lives in *_amd64.go files; only x86_64 is supported.
package kernel
