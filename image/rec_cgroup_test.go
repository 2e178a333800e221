package image

import "testing"

func TestCheckCgroupPath(t *testing.T) {
	for _, c := range []struct {
		path string
		ok   bool
	}{
		{"", true}, {"a", true}, {"a/b", true}, {"a.b/..c", true},
		{"/", false}, {"/a", false}, {"a/", false}, {"a//b", false}, {".", false}, {"..", false},
		{"a/..", false}, {"../a", false}, {"a/./b", false}, {"a\x00b", false},
	} {
		if err := CheckCgroupPath(c.path); (err == nil) != c.ok {
			t.Errorf("CheckCgroupPath(%q) = %v, want ok %v", c.path, err, c.ok)
		}
		rec := &CgroupDir{ID: 1, Path: c.path}
		if err := CheckPaths(rec); (err == nil) != c.ok {
			t.Errorf("CheckPaths(CGROUP_DIR %q) = %v, want ok %v", c.path, err, c.ok)
		}
	}
	for _, n := range []string{"", ".", "..", "a/b", "../memory.max", "x\x00"} {
		if CheckPaths(&CgroupProp{Dir: 1, Name: n}) == nil {
			t.Errorf("CGROUP_PROP name %q accepted", n)
		}
	}
}
