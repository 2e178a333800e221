package checkpoint

import (
	"errors"
	"strings"
	"testing"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/allow"
	"github.com/ckpt/ckpt/internal/proc"
)

func TestParseTimespecPair(t *testing.T) {
	s, ns, err := parseTimespecPair(" (99, 999960110)")
	if err != nil || s != 99 || ns != 999960110 {
		t.Errorf("got %d %d %v", s, ns, err)
	}
	for _, bad := range []string{"", "(1)", "(x, 2)", "(1, y)"} {
		if _, _, err := parseTimespecPair(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestCollectLocks(t *testing.T) {
	p := &process{pid: 42}
	of := &openFd{fd: 3, link: "/srv/data", info: &proc.FdInfo{Extra: map[string]string{
		"lock": "1: POSIX  ADVISORY  WRITE 42 fe:00:12 10 14\n2: FLOCK  ADVISORY  READ 42 fe:00:12 0 EOF",
	}}}
	obj := &fileObj{objref: 9}

	d := &dumper{}
	err := d.collectLocks(p, of, obj)
	if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "/srv/data") || !strings.Contains(err.Error(), "--file-locks") {
		t.Fatalf("without --file-locks: got %v, want a refusal naming the file and the option", err)
	}

	d = &dumper{opts: Options{Allow: allow.Allow{FileLocks: true}}}
	if err := d.collectLocks(p, of, obj); err != nil {
		t.Fatal(err)
	}
	// The same locks seen again through a dup are not saved twice.
	of2 := *of
	of2.fd = 4
	if err := d.collectLocks(p, &of2, obj); err != nil {
		t.Fatal(err)
	}
	got := d.locks[p]
	want := []image.FileLock{
		{Fd: 3, Kind: image.LockPosix, Write: 1, Start: 10, Len: 5},
		{Fd: 3, Kind: image.LockFlock},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d locks, want %d: %v", len(got), len(want), got)
	}
	for i := range want {
		if *got[i].(*image.FileLock) != want[i] {
			t.Errorf("lock %d: got %+v, want %+v", i, got[i], want[i])
		}
	}

	of.info.Extra["lock"] = "1: LEASE  ACTIVE    READ 42 fe:00:12 0 EOF"
	if err := d.collectLocks(p, of, obj); !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "LEASE") {
		t.Errorf("a lease: got %v, want a refusal naming it", err)
	}
}
