package shim

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	taskAPI "github.com/containerd/containerd/api/runtime/task/v3"
	"github.com/containerd/containerd/api/types/runc/options"
	"github.com/containerd/errdefs"
	"github.com/containerd/errdefs/pkg/errgrpc"
	"github.com/containerd/typeurl/v2"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/ckpt/ckpt/internal/allow"
	"github.com/ckpt/ckpt/oci"
)

func TestCheckCheckpointOptions(t *testing.T) {
	for _, c := range []struct {
		o    *options.CheckpointOptions
		want string // "" = accepted
	}{
		{&options.CheckpointOptions{}, ""},
		{&options.CheckpointOptions{Exit: true, OpenTcp: true, ExternalUnixSockets: true, Terminal: true, FileLocks: true,
			CgroupsMode: "soft", ImagePath: "/x", WorkPath: "/y"}, ""},
		{&options.CheckpointOptions{CgroupsMode: "full"}, `cgroups mode "full"`},
		{&options.CheckpointOptions{EmptyNamespaces: []string{"network"}}, "empty namespaces [network]"},
		{&options.CheckpointOptions{ParentPath: "/p"}, "incremental checkpoints"},
	} {
		err := checkCheckpointOptions(c.o)
		if c.want == "" && err != nil {
			t.Errorf("%v: %v", c.o, err)
		}
		if c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%v: %v, want an error saying %q", c.o, err, c.want)
		}
	}
}

func TestCreateOptions(t *testing.T) {
	o, err := createOptions(nil)
	if err != nil || o.BinaryName != "" {
		t.Fatalf("no options: %v, %v", o, err)
	}
	a, err := typeurl.MarshalAnyToProto(&options.Options{BinaryName: "/x/ckpt", Root: "/r"})
	if err != nil {
		t.Fatal(err)
	}
	if o, err = createOptions(a); err != nil || o.BinaryName != "/x/ckpt" || o.Root != "/r" {
		t.Fatalf("runc options: %v, %v", o, err)
	}
	a, err = typeurl.MarshalAnyToProto(&options.CheckpointOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := createOptions(a); err == nil || !strings.Contains(err.Error(), "takes runc Options only") {
		t.Fatalf("checkpoint options as create options: %v", err)
	}
}

func TestRestoreBundle(t *testing.T) {
	dir := t.TempDir()
	config := filepath.Join(dir, "config.json")
	orig := `{"ociVersion":"1.2.0","process":{"args":["sh"],"cwd":"/"},"annotations":{"a":"b"},` +
		`"linux":{"cgroupsPath":"/default/c1","namespaces":[{"type":"pid"}]}}`
	read := func() map[string]any {
		var m map[string]any
		b, _ := os.ReadFile(config)
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	for _, c := range []struct{ ns, old, new, wantCg string }{
		{"default", "c1", "c1", "/default/c1"},
		{"default", "c1", "c2", "/default/c2"},
		{"migrated", "c1", "c1", "/migrated/c1"},
		{"default", "other", "c2", "/default/c1"}, // not containerd's path for the old id: kept
	} {
		if err := os.WriteFile(config, []byte(orig), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := restoreBundle(config, c.ns, c.old, c.new); err != nil {
			t.Fatal(err)
		}
		m := read()
		ann := m["annotations"].(map[string]any)
		if ann["a"] != "b" || ann[oci.RootfsCopyAnnotation] != "true" {
			t.Errorf("%v: annotations %v", c, ann)
		}
		linux := m["linux"].(map[string]any)
		if linux["cgroupsPath"] != c.wantCg || len(linux["namespaces"].([]any)) != 1 {
			t.Errorf("%v: linux %v, want cgroupsPath %s", c, linux, c.wantCg)
		}
		if m["process"].(map[string]any)["args"].([]any)[0] != "sh" || m["ociVersion"] != "1.2.0" {
			t.Errorf("%v: other fields changed: %v", c, m)
		}
	}
}

func TestAllowOf(t *testing.T) {
	got := allowOf(&options.CheckpointOptions{OpenTcp: true, ExternalUnixSockets: true, Terminal: true, FileLocks: true})
	if !got.TcpEstablished || !got.ExtUnixSk || !got.ShellJob || !got.FileLocks {
		t.Fatalf("every runc permission set: %+v", got)
	}
	if got := allowOf(&options.CheckpointOptions{}); got != (allow.Allow{}) {
		t.Fatalf("none set: %+v", got)
	}
}

// TestCreateErrorClass: a refusal reaches containerd with its errdefs class
// (here invalid argument), not as Unknown.
func TestCreateErrorClass(t *testing.T) {
	a, err := typeurl.MarshalAnyToProto(&options.CheckpointOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = (&service{}).Create(context.Background(), &taskAPI.CreateTaskRequest{ID: "c1", Options: a})
	if err == nil {
		t.Fatal("create with checkpoint options as its options succeeded")
	}
	if st, ok := status.FromError(err); !ok || st.Code() != codes.InvalidArgument {
		t.Fatalf("create with bad options: %v (a gRPC status %v), want code InvalidArgument", err, ok)
	}
	if !errdefs.IsInvalidArgument(errgrpc.ToNative(err)) {
		t.Fatalf("create with bad options: %v, not an invalid argument once back in containerd", err)
	}
}
