package cli

import (
	"reflect"
	"testing"
)

func TestReorderArgs(t *testing.T) {
	app := App()
	for _, c := range []struct{ in, want []string }{
		{[]string{"ckpt", "update", "c1", "--pids-limit", "10"}, []string{"ckpt", "update", "--pids-limit", "10", "c1"}},
		{[]string{"ckpt", "--root", "/r", "update", "c1", "--cpu-period", "900000", "--cpu-burst=5"},
			[]string{"ckpt", "--root", "/r", "update", "--cpu-period", "900000", "--cpu-burst=5", "c1"}},
		{[]string{"ckpt", "checkpoint", "c1", "--leave-running", "--image-path", "d"},
			[]string{"ckpt", "checkpoint", "--leave-running", "--image-path", "d", "c1"}},
		{[]string{"ckpt", "kill", "c1", "KILL", "-a"}, []string{"ckpt", "kill", "-a", "c1", "KILL"}},
		// exec's command and ps's options are not ours to move.
		{[]string{"ckpt", "exec", "c1", "ls", "-l"}, []string{"ckpt", "exec", "c1", "ls", "-l"}},
		{[]string{"ckpt", "ps", "c1", "-ef"}, []string{"ckpt", "ps", "c1", "-ef"}},
		// An unknown flag, "--" and what follows stay.
		{[]string{"ckpt", "delete", "c1", "--nope", "--", "-f"}, []string{"ckpt", "delete", "c1", "--nope", "--", "-f"}},
	} {
		if got := reorderArgs(app, c.in); !reflect.DeepEqual(got, c.want) {
			t.Errorf("reorderArgs(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
