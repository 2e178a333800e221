package checkpoint

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/ckpt/ckpt/internal/fsroot"
)

// TestSearchDirs checks where a relative socket name is looked for: the
// current directory, its parents up to "/", then below them, nearest
// first, searchDepth levels down, never the same directory twice.
func TestSearchDirs(t *testing.T) {
	top := t.TempDir()
	for _, d := range []string{"a/b/c/d/e", "a/x", "y"} {
		if err := os.MkdirAll(filepath.Join(top, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	root, err := fsroot.Open(top)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	var seen []string
	searchDirs(root, []string{"/a/x"}, func(dir string) bool {
		seen = append(seen, dir)
		return false
	})
	want := []string{"/a/x", "/a", "/", "/a/b", "/a/b/c", "/a/b/c/d", "/y"}
	for _, w := range want {
		if !slices.Contains(seen, w) {
			t.Errorf("%s not searched (searched %q)", w, seen)
		}
	}
	if slices.Contains(seen, "/a/b/c/d/e") {
		t.Errorf("searched /a/b/c/d/e, more than %d levels below /a/x's parents", searchDepth)
	}
	if seen[0] != "/a/x" || seen[1] != "/a" || seen[2] != "/" {
		t.Errorf("the current directory and its parents come first: %q", seen)
	}
	for i, d := range seen {
		if slices.Contains(seen[:i], d) {
			t.Errorf("%s searched twice", d)
		}
	}
	// The first match ends the search.
	n := 0
	searchDirs(root, []string{"/a/x"}, func(dir string) bool { n++; return dir == "/a" })
	if n != 2 {
		t.Errorf("%d directories tried, want 2 (the search stops at the match)", n)
	}
}
