package cli

import (
	"fmt"
	"hash/maphash"
	"io"
	"os"
	"sort"
	"strings"

	ucli "github.com/urfave/cli/v2"

	"github.com/ckpt/ckpt/image"
)

// inspectDiff compares two checkpoints: processes, their files and
// sockets, their memory page by page.
//
// Memory is compared by content without holding it: each image is read
// once, front to back, and every page of every address space is reduced
// to a 64-bit hash (maphash, one seed for both images) with its address,
// 16 bytes a page; the two sorted lists are then walked together. Two
// pages with the same hash are taken as equal (a collision is a 2^-64
// chance per page).
func inspectDiff(c *ucli.Context, args []string) error {
	if len(args) != 2 {
		return fmt.Errorf("inspect diff takes two checkpoints")
	}
	seed := maphash.MakeSeed()
	var ms [2]*model
	for i, arg := range args {
		if _, err := withImage(c, arg, func(r io.Reader) error {
			var err error
			ms[i], _, err = buildModel(r, buildOpts{cmdline: true, hashes: &seed})
			return err
		}); err != nil {
			return err
		}
	}
	fmt.Fprintf(os.Stdout, "--- %s\n+++ %s\n", args[0], args[1])
	diffModels(os.Stdout, ms[0], ms[1])
	return nil
}

// diffModels prints what differs from a to b, task by task.
func diffModels(w io.Writer, a, b *model) {
	for _, t := range a.Tasks {
		if u := b.byPid[t.Pid]; u == nil {
			fmt.Fprintf(w, "- task %d %s\n", t.Pid, t.Comm)
		}
	}
	// Tasks sharing an address space are compared once, as its first.
	seen := map[[2]uint32]bool{}
	for _, u := range b.Tasks {
		t := a.byPid[u.Pid]
		if t == nil {
			fmt.Fprintf(w, "+ task %d %s\n", u.Pid, u.Comm)
			continue
		}
		if t.Comm != u.Comm || quoteArgs(t.Cmdline) != quoteArgs(u.Cmdline) {
			fmt.Fprintf(w, "~ task %d: %s %s -> %s %s\n", u.Pid, t.Comm, quoteArgs(t.Cmdline), u.Comm, quoteArgs(u.Cmdline))
		}
		if t.MemPages != u.MemPages {
			fmt.Fprintf(w, "~ task %d: memory %s -> %s\n", u.Pid, size(int64(t.MemPages)*4096), size(int64(u.MemPages)*4096))
		}
		if k := [2]uint32{t.mm, u.mm}; !seen[k] {
			seen[k] = true
			for _, d := range diffPages(t.hashes, u.hashes, t.Vmas, u.Vmas) {
				fmt.Fprintf(w, "%s task %d memory %s: %s\n", d.sign(), u.Pid, d.vma, d.describe())
			}
		}
		diffFds(w, t, u)
	}
}

func diffFds(w io.Writer, t, u *taskView) {
	fds := map[int32]fdView{}
	for _, f := range t.Fds {
		fds[f.Fd] = f
	}
	for _, f := range u.Fds {
		old, ok := fds[f.Fd]
		delete(fds, f.Fd)
		switch {
		case !ok:
			fmt.Fprintf(w, "+ task %d fd %d: %s %s\n", u.Pid, f.Fd, f.Kind, f.Name)
		case old.Kind != f.Kind || old.Name != f.Name || old.Flags != f.Flags:
			fmt.Fprintf(w, "~ task %d fd %d: %s %s %s -> %s %s %s\n", u.Pid, f.Fd, old.Kind, old.Name, old.Flags, f.Kind, f.Name, f.Flags)
		}
	}
	gone := make([]int32, 0, len(fds))
	for fd := range fds {
		gone = append(gone, fd)
	}
	sort.Slice(gone, func(i, j int) bool { return gone[i] < gone[j] })
	for _, fd := range gone {
		fmt.Fprintf(w, "- task %d fd %d: %s %s\n", u.Pid, fd, fds[fd].Kind, fds[fd].Name)
	}
}

// Page classes in a memory diff.
const (
	pageChanged = iota // in both, content differs
	pageGone           // in a only (unmapped, or never touched / zero in b)
	pageNew            // in b only
)

// pageDiff is what differs in one mapping: pages of one class.
type pageDiff struct {
	vma    string
	class  int
	pages  uint64
	ranges [][2]uint64 // [start, end) addresses
}

func (d pageDiff) sign() string { return [...]string{"~", "-", "+"}[d.class] }

// maxRanges bounds the ranges listed per mapping.
const maxRanges = 8

func (d pageDiff) describe() string {
	what := [...]string{"differ", "only in the first", "only in the second"}[d.class]
	noun := "pages"
	if d.pages == 1 {
		noun = "page"
		if d.class == pageChanged {
			what = "differs"
		}
	}
	parts := make([]string, 0, maxRanges+1)
	for i, r := range d.ranges {
		if i == maxRanges {
			parts = append(parts, fmt.Sprintf("and %d more ranges", len(d.ranges)-maxRanges))
			break
		}
		parts = append(parts, fmt.Sprintf("%#x-%#x", r[0], r[1]))
	}
	return fmt.Sprintf("%d %s %s (%s)", d.pages, noun, what, strings.Join(parts, ", "))
}

// diffPages compares two address spaces' page hashes: pages whose content
// differs, pages only in a, pages only in b, grouped by the mapping they
// are in (b's, a's for pages only in a) in address order.
func diffPages(a, b []pageHash, vmasA, vmasB []image.Vma) []pageDiff {
	byAddr := func(p []pageHash) {
		sort.Slice(p, func(i, j int) bool { return p[i].Vaddr < p[j].Vaddr })
	}
	byAddr(a)
	byAddr(b)
	var out []pageDiff
	index := map[[2]int]int{} // (class, vma) -> out index
	add := func(class int, va uint64) {
		vmas := vmasB
		if class == pageGone {
			vmas = vmasA
		}
		vi := sort.Search(len(vmas), func(i int) bool { return vmas[i].End > va })
		name := "(no mapping)"
		if vi < len(vmas) && vmas[vi].Start <= va {
			name = fmt.Sprintf("%#x-%#x %s", vmas[vi].Start, vmas[vi].End, vmaName(vmas[vi]))
		} else {
			vi = -1
		}
		k := [2]int{class, vi}
		i, ok := index[k]
		if !ok {
			i = len(out)
			index[k] = i
			out = append(out, pageDiff{vma: name, class: class})
		}
		d := &out[i]
		d.pages++
		if n := len(d.ranges); n > 0 && d.ranges[n-1][1] == va {
			d.ranges[n-1][1] = va + image.PageSize
		} else {
			d.ranges = append(d.ranges, [2]uint64{va, va + image.PageSize})
		}
	}
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j == len(b) || i < len(a) && a[i].Vaddr < b[j].Vaddr:
			add(pageGone, a[i].Vaddr)
			i++
		case i == len(a) || b[j].Vaddr < a[i].Vaddr:
			add(pageNew, b[j].Vaddr)
			j++
		default:
			if a[i].Sum != b[j].Sum {
				add(pageChanged, b[j].Vaddr)
			}
			i++
			j++
		}
	}
	return out
}

// vmaName is what a mapping maps: its path or pseudo-name, else "anon".
func vmaName(v image.Vma) string {
	if v.Path != "" {
		return v.Path
	}
	return "anon"
}
