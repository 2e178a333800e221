package shim

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/containerd/containerd/api/types/runc/options"
	runtimeoptions "github.com/containerd/containerd/api/types/runtimeoptions/v1"
	"github.com/containerd/typeurl/v2"

	"github.com/ckpt/ckpt/internal/allow"
	"github.com/ckpt/ckpt/oci"
)

func TestHandlerOptions(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "ckpt.toml")
	if err := os.WriteFile(file, []byte("tcp_established = true\nfile_locks = true\nSystemdCgroup = false\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		ro   *runtimeoptions.Options
		want allow.Allow
		root string
		err  string // "" = accepted
	}{
		{"empty table", &runtimeoptions.Options{}, allow.Allow{}, "", ""},
		// CRI copies the handler's options table into ConfigBody.
		{"body", &runtimeoptions.Options{ConfigBody: []byte("SystemdCgroup = false\next_unix_sk = true\nshell_job = true\nRoot = \"/r\"\nTypeUrl = \"\"\n")},
			allow.Allow{ExtUnixSk: true, ShellJob: true}, "/r", ""},
		{"file", &runtimeoptions.Options{ConfigPath: file}, allow.Allow{TcpEstablished: true, FileLocks: true}, "", ""},
		{"unknown key", &runtimeoptions.Options{ConfigBody: []byte("tcp_establish = true\n")}, allow.Allow{}, "", `unknown key "tcp_establish"`},
		{"wrong type", &runtimeoptions.Options{ConfigBody: []byte("tcp_established = \"yes\"\n")}, allow.Allow{}, "", "cannot decode TOML string"},
		{"no file", &runtimeoptions.Options{ConfigPath: filepath.Join(dir, "none")}, allow.Allow{}, "", "no such file"},
		{"foreign type", &runtimeoptions.Options{TypeUrl: "io.containerd.runsc.v1.options"}, allow.Allow{}, "", "TypeUrl"},
		{"too big", &runtimeoptions.Options{ConfigBody: []byte("# " + strings.Repeat("x", maxHandlerConfig) + "\n")}, allow.Allow{}, "", "more than"},
	} {
		a, err := typeurl.MarshalAnyToProto(c.ro)
		if err != nil {
			t.Fatal(err)
		}
		o, d, err := handlerOptions(a)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: %v, want an error saying %q", c.name, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if *d != c.want || o.Root != c.root {
			t.Errorf("%s: defaults %+v root %q, want %+v %q", c.name, *d, o.Root, c.want, c.root)
		}
	}
	// runc Options carry no defaults.
	a, _ := typeurl.MarshalAnyToProto(&options.Options{Root: "/x"})
	if o, d, err := handlerOptions(a); err != nil || o.Root != "/x" || *d != (allow.Allow{}) {
		t.Fatalf("runc options: %v %v %v", o, d, err)
	}
}

func TestApplyDefaults(t *testing.T) {
	o := &options.CheckpointOptions{Exit: true, FileLocks: true}
	applyDefaults(o, &allow.Allow{TcpEstablished: true, ExtUnixSk: true})
	if !o.OpenTcp || !o.ExternalUnixSockets || !o.FileLocks || !o.Exit || o.Terminal {
		t.Fatalf("defaults added to checkpoint options: %+v", o)
	}
}

func TestRestoreDefaults(t *testing.T) {
	config := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(config, []byte(`{"ociVersion":"1.0.2","annotations":{"a":"b"}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := restoreDefaults(config, &allow.Allow{TcpEstablished: true, FileLocks: true}); err != nil {
		t.Fatal(err)
	}
	var spec struct{ Annotations map[string]string }
	b, _ := os.ReadFile(config)
	if err := json.Unmarshal(b, &spec); err != nil {
		t.Fatal(err)
	}
	a := spec.Annotations
	if a["a"] != "b" || a[oci.RestoreFlagAnnotation+"tcp-established"] != "true" || a[oci.RestoreFlagAnnotation+"file-locks"] != "true" || len(a) != 3 {
		t.Fatalf("annotations %v", a)
	}
}
