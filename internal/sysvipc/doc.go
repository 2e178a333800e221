// Package sysvipc wraps the System V IPC calls ckpt makes on its own
// threads (semctl, msgctl, msgrcv, msgsnd, semop) that
// golang.org/x/sys/unix lacks, and reads /proc/sysvipc. Every call acts
// on the IPC namespace of the calling OS thread: callers lock the
// goroutine to a thread that has entered the namespace they mean.
package sysvipc
