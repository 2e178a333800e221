package image

import (
	"fmt"
	"strings"
)

// Describe says what a restore of the image would make, for `ckpt restore
// --dry-run`.
func (s *Summary) Describe() string {
	var b strings.Builder
	zombies := 0
	for _, t := range s.Tasks {
		if t.State == TaskZombie {
			zombies++
		}
	}
	if c := s.Container; c != nil {
		fmt.Fprintf(&b, "container %s (bundle %s, rootfs %s)\n", c.ID, c.Bundle, c.Rootfs)
	}
	where := "with their pids in this pid namespace"
	if s.PidNs() {
		where = "in a new pid namespace"
	}
	fmt.Fprintf(&b, "would restore %d tasks (%d zombies) %s, %d threads, %d fds, %d mappings (%d bytes), %d pages of memory (%d bytes)\n",
		len(s.Tasks), zombies, where, s.Threads, s.Files, s.Vmas, s.VmaBytes, s.Pages, s.Pages*PageSize)
	for _, t := range s.Tasks {
		state := "alive"
		if t.State == TaskZombie {
			state = "zombie"
		}
		comm := t.Comm[:]
		if i := strings.IndexByte(string(comm), 0); i >= 0 {
			comm = comm[:i]
		}
		fmt.Fprintf(&b, "  pid %d ppid %d pgid %d sid %d %s %q\n", t.Pid, t.PPid, t.Pgid, t.Sid, state, comm)
	}
	for _, name := range []string{"PIPE", "FIFO", "UNIX_SK", "INET_SOCKET", "TTY", "REG_FILE", "MOUNT"} {
		if n := s.Counts[name]; n > 0 {
			fmt.Fprintf(&b, "  %d %s\n", n, name)
		}
	}
	fmt.Fprintf(&b, "image: %d records, %d bytes, valid\n", s.Records, s.Bytes)
	return b.String()
}
