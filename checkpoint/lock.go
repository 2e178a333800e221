package checkpoint

import (
	"fmt"

	"github.com/ckpt/ckpt/internal/lockfile"
	"github.com/ckpt/ckpt/internal/proc"
)

// lockTree keeps two checkpoints off one process tree: the second fails
// at once, wrapping image.ErrBusy, before it seizes anything. The lock is
// named by pid and start time, so a reused pid is another lock.
func lockTree(pid int) (*lockfile.Lock, error) {
	st, err := proc.ReadStat(pid)
	if err != nil {
		// Gone or unreadable: seizing it fails and says why.
		return nil, nil
	}
	return lockfile.Acquire(fmt.Sprintf("pid-%d-%d", pid, st.StartTime), fmt.Sprintf("process %d", pid))
}
