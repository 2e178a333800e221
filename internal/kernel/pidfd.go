package kernel

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// TakeFd duplicates fd of task pid into the calling process
// (pidfd_open(2), pidfd_getfd(2)): the same open file description, close
// on exec. It needs ptrace access to pid.
func TakeFd(pid, fd int) (int, error) {
	pidfd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return -1, fmt.Errorf("pidfd_open(%d): %w", pid, err)
	}
	defer unix.Close(pidfd)
	got, err := unix.PidfdGetfd(pidfd, fd, 0)
	if err != nil {
		return -1, fmt.Errorf("pidfd_getfd(task %d, fd %d): %w", pid, fd, err)
	}
	return got, nil
}
