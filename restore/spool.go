package restore

import (
	"fmt"
	"time"

	"github.com/ckpt/ckpt/internal/proc"
)

// pidReleaseWait bounds how long a restore waits for the pid it needs to be
// released by a checkpointer that has finished (or a parent to reap it).
const pidReleaseWait = 30 * time.Second

// waitPidFree returns nil once pid is free. While the process holding it is
// alive, it is given a short grace (the checkpointer kills it right after
// writing the tail); a zombie is waited for up to pidReleaseWait, as its
// parent may reap slowly.
func waitPidFree(pid int) error {
	deadline := time.Now().Add(pidReleaseWait)
	grace := time.Now().Add(2 * time.Second)
	for {
		st, err := proc.ReadStat(pid)
		if err != nil && proc.IsGone(err) {
			return nil
		}
		now := time.Now()
		zombie := err == nil && (st.State == 'Z' || st.State == 'X')
		if err == nil && !zombie && now.After(grace) {
			return fmt.Errorf("pid %d is in use (by %q): stop that process or restore elsewhere", pid, st.Comm)
		}
		if now.After(deadline) {
			return fmt.Errorf("pid %d is still held by an unreaped zombie after %v: its parent does not reap it", pid, pidReleaseWait)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
