package restore

import (
	"fmt"
	"io"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/internal/proc"
)

// spoolReader sits under the image reader. In a pipeline
// `ckpt checkpoint --image - | ckpt restore --image -` the checkpointer
// kills the process only after writing the tail, but the restorer needs its
// pid as soon as the first page arrives: waiting would deadlock on a full
// pipe. So when the pid is still taken, the rest of the stream is spooled
// into memory (a memfd) until the writer is done, and reading goes on from
// the spool.
type spoolReader struct {
	r     io.Reader
	spool *os.File
}

func (s *spoolReader) Read(p []byte) (int, error) {
	if s.spool != nil {
		return s.spool.Read(p)
	}
	return s.r.Read(p)
}

// drain reads the rest of the stream into the spool.
func (s *spoolReader) drain() error {
	if s.spool != nil {
		return nil
	}
	fd, err := unix.MemfdCreate("ckpt-spool", unix.MFD_CLOEXEC)
	if err != nil {
		return fmt.Errorf("memfd_create: %w", err)
	}
	f := os.NewFile(uintptr(fd), "ckpt-spool")
	if _, err := io.Copy(f, s.r); err != nil {
		f.Close()
		return fmt.Errorf("spool image: %w", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return err
	}
	s.spool = f
	return nil
}

func (s *spoolReader) close() {
	if s.spool != nil {
		s.spool.Close()
	}
}

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
