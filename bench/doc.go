// Package bench measures ckpt against CRIU and against the hardware floor.
//
// One run of the benchmark builds small C workloads (workloads/*.c) with gcc,
// and for every workload, run after run, starts a fresh copy of it and lets
// each tool, in alternating order, do three things to it: a checkpoint with
// --leave-running, a checkpoint that kills it, and a restore of that second
// image. A restore only counts once the restored workload, poked with
// SIGUSR1, has recomputed the checksum of its memory and replied OK: a fast
// wrong restore is a failure, not a good figure.
//
// Every tool runs under workloads/runwait.c, which forks it, waits for it
// and reports its wall time from fork to exit and the CPU time and peak RSS
// of wait4(2)'s rusage (the bench cannot take that rusage itself; runwait.c
// says why). Work a tool does inside the checkpointed or restored process
// (CRIU's parasite and restorer run there; ckpt injects syscalls there) is
// not in that rusage, so the bench also reads the CPU time the workload's
// own tasks consumed (/proc/PID/task/TID/schedstat) around each operation.
// The ckpt binary is copied when the bench starts, so a rebuild of bin/ckpt
// during a run changes nothing.
//
// The bench makes itself a child subreaper (PR_SET_CHILD_SUBREAPER): a
// restored workload whose tool exits is reparented to the bench, which can
// then kill and reap it at once. Both tools restore with the original pids,
// and pid 1 on this machine reaps orphans too slowly to wait for.
//
// The floor is what the kernel allows at best for the same amount of
// memory, measured in the same run by workloads/floor.c: writing N MiB into
// a new file's page cache on the image file system, reading it back into
// touched and into fresh memory, and one memcpy.
//
// Scaling points (scale.go) measure how checkpoint, restore and image grow
// with memory, processes, threads and open fds, both tools side by side,
// with a least-squares slope per axis; a point whose cost the previous
// points say would exceed a budget is left out, saying so (budget.go).
// Real programs (servers.go: Debian's redis-server, nginx and python3's
// http.server) are judged by their answers: a reply counts only when it is
// the one given before the checkpoint. There CRIU's lazy-pages daemon is
// compared with ckpt restore --lazy, from the image file and from
// ckpt page-server on a socket.
//
// Results go to a JSON file (raw figures of every run plus summaries), a
// table on stdout, and docs/performance.md.
package bench
