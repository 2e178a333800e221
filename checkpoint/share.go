package checkpoint

import (
	"fmt"
	"sort"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/kernel"
	"github.com/ckpt/ckpt/internal/proc"
)

// shareKinds are the per-process kernel objects clone(2) can share between
// processes (not threads), and the kcmp(2) type that compares them.
var shareKinds = []struct {
	flag uint32
	kcmp int
	what string
}{
	{image.ShareVM, kernel.KCMP_VM, "address space (CLONE_VM)"},
	{image.ShareFiles, kernel.KCMP_FILES, "fd table (CLONE_FILES)"},
	{image.ShareFS, kernel.KCMP_FS, "fs_struct: cwd, root and umask (CLONE_FS)"},
	{image.ShareSighand, kernel.KCMP_SIGHAND, "signal handlers (CLONE_SIGHAND)"},
}

// findShares finds the processes that share an mm, fd table, fs_struct or
// signal handler table with another process of the set. Restore can give
// birth to a process with its parent's objects only, so each sharer must
// share with its parent (which may share with its own, and so on up);
// sharing with any other process is refused. kcmp orders objects, so the
// distinct objects of each kind are kept sorted and each process is looked
// up among them: n log n comparisons rather than n².
func (d *dumper) findShares(t *tree) error {
	live := t.live()
	ppid := map[*process]int{}
	for _, p := range live {
		st, err := proc.ReadStat(p.pid)
		if err != nil {
			return fmt.Errorf("task %d: %w", p.pid, err)
		}
		ppid[p] = st.PPid
	}
	for _, k := range shareKinds {
		var reps []*process // one per distinct object, in kcmp order
		for _, p := range live {
			var cmpErr error
			i := sort.Search(len(reps), func(i int) bool {
				r, err := kernel.Kcmp(p.pid, reps[i].pid, k.kcmp, 0, 0)
				if err != nil && cmpErr == nil {
					cmpErr = err
				}
				return r != kernel.KcmpGreater // reps[i] >= p's object
			})
			if cmpErr != nil {
				return fmt.Errorf("task %d: compare its %s: %w", p.pid, k.what, cmpErr)
			}
			if i < len(reps) {
				if r, err := kernel.Kcmp(p.pid, reps[i].pid, k.kcmp, 0, 0); err != nil {
					return fmt.Errorf("task %d: compare its %s: %w", p.pid, k.what, err)
				} else if r == kernel.KcmpEqual {
					parent := t.byPid[ppid[p]]
					same := parent != nil && !parent.zombie
					if same {
						r, err := kernel.Kcmp(p.pid, parent.pid, k.kcmp, 0, 0)
						same = err == nil && r == kernel.KcmpEqual
					}
					if !same {
						return unsupported(p.pid, k.what, "it is shared with task %d, which is not its parent: "+
							"only sharing with the parent can be restored", reps[i].pid)
					}
					p.shares |= k.flag
					continue
				}
			}
			reps = append(reps, nil)
			copy(reps[i+1:], reps[i:])
			reps[i] = p
		}
	}
	for _, p := range live {
		if p.shares&image.ShareSighand != 0 && p.shares&image.ShareVM == 0 {
			return unsupported(p.pid, "signal handlers", "shared with its parent without sharing its address space")
		}
		if p.shares != 0 {
			p.shareParent = t.byPid[ppid[p]]
			d.log.Debug("shares with its parent", "task", p.pid, "parent", p.shareParent.pid, "flags", fmt.Sprintf("%#x", p.shares))
		}
	}
	return nil
}

// sharesRecord lists the sharers for the image, or nil if there are none.
func sharesRecord(t *tree) *image.Shares {
	var s image.Shares
	for _, p := range t.live() {
		if p.shares != 0 {
			s.Tasks = append(s.Tasks, image.TaskShare{Pid: p.task.Pid, Flags: p.shares})
		}
	}
	if len(s.Tasks) == 0 {
		return nil
	}
	return &s
}
