package atomicfile

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// TestAbortKeepsTarget: until Commit the target keeps what it had, and an
// aborted file leaves nothing in the directory.
func TestAbortKeepsTarget(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Create(path, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("new data")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "old" {
		t.Fatalf("before Commit the target holds %q", b)
	}
	if err := f.Abort(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "old" {
		t.Fatalf("after Abort the target holds %q", b)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Fatalf("Abort left %d entries", len(ents))
	}
}

// TestCommitReplacesLink: Commit puts the data at the path with the mode
// asked for, replacing a symlink there instead of writing through it.
func TestCommitReplacesLink(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	if err := os.WriteFile(victim, []byte("victim"), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "f")
	if err := os.Symlink(victim, path); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, []byte("new"), 0o600); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	if !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o600 {
		t.Fatalf("target is %v, want a regular file of mode 0600", fi.Mode())
	}
	if b, _ := os.ReadFile(victim); string(b) != "victim" {
		t.Fatalf("the write went through the link: victim holds %q", b)
	}
	if b, _ := os.ReadFile(path); string(b) != "new" {
		t.Fatalf("target holds %q", b)
	}
}

// TestWriteBehind: a file written past several writeback kicks (Write
// starts writeback every writeBehind bytes, from a goroutine) holds
// exactly what was written once committed, and one aborted past them
// leaves nothing: Commit and Abort wait for the goroutine first.
func TestWriteBehind(t *testing.T) {
	dir := t.TempDir()
	chunk := make([]byte, 1<<20+123) // not a multiple of the kick size
	var want []byte
	for _, abort := range []bool{false, true} {
		path := filepath.Join(dir, fmt.Sprintf("f-%v", abort))
		f, err := Create(path, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		want = want[:0]
		for i := range 3 * writeBehind / len(chunk) {
			for j := range chunk {
				chunk[j] = byte(i + j)
			}
			if _, err := f.Write(chunk); err != nil {
				t.Fatal(err)
			}
			want = append(want, chunk...)
		}
		if f.kick == nil {
			t.Fatalf("%d bytes written and no writeback started", len(want))
		}
		if abort {
			if err := f.Abort(); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(path); !os.IsNotExist(err) {
				t.Fatalf("after Abort %s: %v", path, err)
			}
			continue
		}
		if err := f.Commit(); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("committed file: %d bytes, want %d (or different content)", len(got), len(want))
		}
	}
}
