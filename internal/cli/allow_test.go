package cli

import (
	"testing"

	ucli "github.com/urfave/cli/v2"

	"github.com/ckpt/ckpt/internal/allow"
)

// TestAllowFlags: every permission is a flag of checkpoint and restore,
// read back into allow.Allow, and on the container forms' allow-lists.
func TestAllowFlags(t *testing.T) {
	for _, restore := range []bool{false, true} {
		var got allow.Allow
		app := &ucli.App{Flags: allowFlags(restore), Action: func(c *ucli.Context) error {
			got = allowOf(c)
			return nil
		}}
		if err := app.Run([]string{"ckpt", "--tcp-established", "--file-locks", "--ext-unix-sk", "--shell-job"}); err != nil {
			t.Fatal(err)
		}
		if want := (allow.Allow{TcpEstablished: true, FileLocks: true, ExtUnixSk: true, ShellJob: true}); got != want {
			t.Errorf("restore %v: %+v, want %+v", restore, got, want)
		}
		if err := app.Run([]string{"ckpt", "--ext-unix-sk"}); err != nil || got != (allow.Allow{ExtUnixSk: true}) {
			t.Errorf("restore %v: --ext-unix-sk alone: %+v, %v", restore, got, err)
		}
	}
	for _, p := range allow.Permissions {
		if !checkpointContainerOK[p.Flag] || !restoreContainerOK[p.Flag] {
			t.Errorf("--%s is not on the container forms' allow-lists", p.Flag)
		}
	}
}
