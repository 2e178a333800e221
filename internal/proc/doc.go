// Package proc parses the /proc files a checkpointer reads for every task:
// maps and smaps, status and stat, the task and children lists, auxv, the
// exe/cwd/root links, fd links and fdinfo, and pagemap (plain reads and the
// PAGEMAP_SCAN ioctl).
//
// The parsers work on one buffer per read, taken from a pool, and walk it
// byte by byte: a process can have tens of thousands of VMAs or fds, and
// the checkpointer reads these files for every task it dumps. Strings are
// allocated only for what the caller keeps (paths, names).
//
// # Errors
//
// Every error names the file it came from ("read /proc/42/maps: ...").
// When the process, thread or fd has gone away, the error satisfies
// errors.Is(err, fs.ErrNotExist), whichever way the kernel reported it:
// ENOENT when opening a /proc entry that no longer exists, ESRCH when the
// task died between open and read, or a pagemap that ends early because
// the address space is gone. IsGone tests for it. An ESRCH stays
// reachable too (errors.Is(err, unix.ESRCH)) for callers that care.
//
// A zombie has no address space: Maps and Smaps return no VMAs for it, and
// Pagemap reads report it as gone.
//
// # Consistency
//
// Each file is read with as few read(2) calls as the buffer allows, but the
// kernel releases its locks between calls, so a task that is running may
// change under the reader. The checkpointer reads tasks that are stopped
// or frozen; the results for a running task are best effort.
package proc
