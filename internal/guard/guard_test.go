package guard

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The test binary is its own guardian, as ckpt is: Start re-executes it.
func TestMain(m *testing.M) {
	Main()
	os.Exit(m.Run())
}

func init() {
	// record appends its second argument to the file its first names.
	Register("record", func(args []string) error {
		f, err := os.OpenFile(args[0], os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = f.WriteString(args[1] + "\n")
		return err
	})
}

// TestUndoOnDeath: when the journal ends without "done" (ckpt died), the
// undos not dropped run, newest first.
func TestUndoOnDeath(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	j, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"first", "second", "third"} {
		u, err := j.Add("record", out, s)
		if err != nil {
			t.Fatal(err)
		}
		if s == "second" {
			u.Drop()
		}
	}
	// As the kernel does when ckpt dies: the write end closes.
	j.w.Close()
	if err := j.cmd.Wait(); err != nil {
		t.Fatalf("guardian: %v", err)
	}
	b, _ := os.ReadFile(out)
	if got := strings.Fields(string(b)); strings.Join(got, " ") != "third first" {
		t.Fatalf("undos run: %q, want third then first", got)
	}
}

// TestDoneUndoesNothing: a run that ends says so, and nothing is undone.
func TestDoneUndoesNothing(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	j, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := j.Add("record", out, "x"); err != nil {
		t.Fatal(err)
	}
	j.Done()
	j.Done() // twice is fine
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Fatalf("an undo ran after done: %v", err)
	}
	if _, err := j.Add("record", out, "y"); err == nil {
		t.Fatal("Add after Done succeeded")
	}
}

// TestNilJournal: a nil journal (a caller's own guardian elsewhere) does
// nothing.
func TestNilJournal(t *testing.T) {
	var j *Journal
	u, err := j.Add("record", "/nonexistent", "x")
	if err != nil {
		t.Fatal(err)
	}
	u.Drop()
	j.Done()
}
