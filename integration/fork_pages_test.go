package integration

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestForkPagesSavedOnce: memory a child shares copy-on-write with its
// parent is in the image once. static/cow00's parent fills 16 MiB and
// forks; the child rewrites the first MiB, the parent the second. The
// child's FORK_PAGES name (at least) the 14 MiB neither wrote, its PAGES
// hold little more than the 2 MiB that differ (the MiB it wrote, and the
// second MiB as it was before the parent rewrote its own copy), and the image holds far fewer
// pages than two copies of the 16 MiB. (That the restored memory is right
// is static/cow00's own check, in every mode of TestZdtm.)
func TestForkPagesSavedOnce(t *testing.T) {
	requireRoot(t)
	needCkpt(t)
	p := builds.find("static/cow00")
	if p == nil {
		t.Fatal("no program static/cow00")
	}
	tp := startProgram(t, p, false)
	img := filepath.Join(tp.dir, "img")
	if _, stderr, err := tryCheckpoint(tp.pid, img, true); err != nil {
		t.Fatalf("ckpt checkpoint --leave-running --pid %d: %v\n%s", tp.pid, err, stderr)
	}
	finish(t, tp, true)
	// The child's command line is in pages it shares with its parent:
	// inspect finds it there.
	out, stderr, err := runCkpt("inspect", "--ps-tree-cmd", img)
	if err != nil {
		t.Fatalf("ckpt inspect --ps-tree-cmd: %v\n%s", err, stderr)
	}
	if n := strings.Count(out, "cow00 --pidfile"); n != 2 {
		t.Errorf("ckpt inspect --ps-tree-cmd shows the command line of %d tasks, want 2 (the child's is in its parent's pages):\n%s", n, out)
	}
	recs, _, err := inspect(filepath.Join(img, "image.ckpt"))
	if err != nil {
		t.Fatal(err)
	}
	const mib = 256 // pages
	type section struct{ pages, fork uint64 }
	var secs []*section
	var total uint64
	for _, r := range recs {
		switch r.Type {
		case "TASK":
			secs = append(secs, &section{})
		case "PAGES":
			if len(secs) > 0 {
				secs[len(secs)-1].pages += r.uint("NrPages")
			}
			total += r.uint("NrPages")
		case "FORK_PAGES":
			var runs []struct{ Pages uint64 }
			if err := json.Unmarshal(r.Fields["Runs"], &runs); err != nil {
				t.Fatalf("FORK_PAGES runs: %v", err)
			}
			for _, run := range runs {
				secs[len(secs)-1].fork += run.Pages
			}
		}
	}
	var child *section
	for _, s := range secs {
		if s.fork > 0 {
			if child != nil {
				t.Fatalf("two tasks with FORK_PAGES, want only the child")
			}
			child = s
		}
	}
	if child == nil {
		t.Fatalf("no task has FORK_PAGES: the child's shared 14 MiB were saved again (%d pages in all)", total)
	}
	t.Logf("child: %d pages of its own, %d of its parent's; %d pages in the image", child.pages, child.fork, total)
	if child.fork < 14*mib {
		t.Errorf("the child's FORK_PAGES name %d pages, want at least the %d neither task wrote", child.fork, 14*mib)
	}
	if child.pages > 3*mib {
		t.Errorf("the child's PAGES hold %d pages, want about the %d that differ from its parent's", child.pages, 2*mib)
	}
	if total > 24*mib {
		t.Errorf("the image holds %d pages: the 16 MiB twice over (%d), not once", total, 32*mib)
	}
}
