package checkpoint

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// freezer freezes and thaws one cgroup, v1 (freezer.state) or v2
// (cgroup.freeze). Frozen tasks can neither fork nor exit, so the set of
// tasks is stable while it is seized; ptrace stops take effect at thaw.
type freezer struct {
	dir string
	v2  bool
}

// freezeTimeout bounds how long a cgroup may take to reach FROZEN.
const freezeTimeout = 10 * time.Second

func newFreezer(dir string) (*freezer, error) {
	if _, err := os.Stat(filepath.Join(dir, "cgroup.freeze")); err == nil {
		return &freezer{dir: dir, v2: true}, nil
	}
	if _, err := os.Stat(filepath.Join(dir, "freezer.state")); err == nil {
		return &freezer{dir: dir}, nil
	}
	return nil, fmt.Errorf("%s is neither a cgroup v2 directory nor a v1 freezer cgroup", dir)
}

func (f *freezer) freeze() error { return f.freezeAround(nil) }

// freezeAround starts freezing the cgroup, runs between (if any), and
// waits until the cgroup is frozen: tasks ptrace-stopped by us are let go
// in between and freeze as they leave the stop, wherever the kernel
// counts a traced task as frozen or not.
func (f *freezer) freezeAround(between func()) error {
	if f.v2 {
		if err := os.WriteFile(filepath.Join(f.dir, "cgroup.freeze"), []byte("1"), 0); err != nil {
			return fmt.Errorf("freeze %s: %w", f.dir, err)
		}
		if between != nil {
			between()
		}
		return f.wait(filepath.Join(f.dir, "cgroup.events"), []byte("frozen 1"))
	}
	if err := os.WriteFile(filepath.Join(f.dir, "freezer.state"), []byte("FROZEN"), 0); err != nil {
		return fmt.Errorf("freeze %s: %w", f.dir, err)
	}
	if between != nil {
		between()
	}
	return f.wait(filepath.Join(f.dir, "freezer.state"), []byte("FROZEN"))
}

func (f *freezer) thaw() error {
	name, val := "freezer.state", "THAWED"
	if f.v2 {
		name, val = "cgroup.freeze", "0"
	}
	if err := os.WriteFile(filepath.Join(f.dir, name), []byte(val), 0); err != nil {
		return fmt.Errorf("thaw %s: %w", f.dir, err)
	}
	return nil
}

// wait polls file until it contains want.
func (f *freezer) wait(file string, want []byte) error {
	deadline := time.Now().Add(freezeTimeout)
	for delay := 50 * time.Microsecond; ; delay = min(2*delay, 10*time.Millisecond) {
		b, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		if bytes.Contains(b, want) {
			return nil
		}
		if time.Now().After(deadline) {
			_ = f.thaw()
			return fmt.Errorf("cgroup %s did not freeze within %v", f.dir, freezeTimeout)
		}
		time.Sleep(delay)
	}
}
