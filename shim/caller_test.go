package shim

import (
	"os"
	"path/filepath"
	"testing"
)

func TestCallerOf(t *testing.T) {
	for _, c := range []struct {
		spec string
		want callerKind
		exit bool
	}{
		{`{"annotations":{"nerdctl/name":"c1","nerdctl/namespace":"default"}}`, callerNerdctl, true},
		{`{"annotations":{"io.kubernetes.cri.container-type":"container","io.kubernetes.cri.sandbox-id":"x"}}`, callerCRI, false},
		// A pod's container that also carries nerdctl's annotations is
		// the kubelet's.
		{`{"annotations":{"nerdctl/name":"c1","io.kubernetes.cri.container-type":"container"}}`, callerCRI, false},
		{`{"annotations":{"a":"b"}}`, callerOther, false},
		{`{}`, callerOther, false},
	} {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(c.spec), 0o644); err != nil {
			t.Fatal(err)
		}
		k, err := callerOf(dir)
		if err != nil || k != c.want {
			t.Errorf("%s: %v %v, want %v", c.spec, k, err, c.want)
		}
		if o := defaultCheckpointOptions(k); o.Exit != c.exit {
			t.Errorf("%s: a checkpoint without options exits: %v, want %v", c.spec, o.Exit, c.exit)
		}
	}
	if _, err := callerOf(t.TempDir()); err == nil {
		t.Errorf("a bundle without config.json: no error")
	}
}
