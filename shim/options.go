package shim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/containerd/containerd/api/types"
	"github.com/containerd/containerd/api/types/runc/options"
	runtimeoptions "github.com/containerd/containerd/api/types/runtimeoptions/v1"
	ptypes "github.com/containerd/containerd/v2/pkg/protobuf/types"
	"github.com/containerd/containerd/v2/pkg/shim"
	"github.com/containerd/typeurl/v2"
	"github.com/pelletier/go-toml/v2"
	"google.golang.org/protobuf/proto"

	"github.com/ckpt/ckpt/internal/allow"
	"github.com/ckpt/ckpt/oci"
)

// Handler options: containerd's CRI plugin sends a runtime that is not
// runc (ours, io.containerd.ckpt.v2) its generic runtimeoptions.v1.Options
// whenever the handler has an `options` table: ConfigPath names a file,
// else ConfigBody is the table itself, as TOML. Both are read the same
// way here: ckpt's checkpoint defaults (keys named after the long CLI
// flags) and the few runc option keys that mean something to ckpt's
// runtime. This is the only way an operator can give, say,
// --tcp-established to the checkpoints the kubelet asks for: it passes no
// options at all.

// maxHandlerConfig bounds a handler's config file: it is a handful of
// keys.
const maxHandlerConfig = 64 << 10

// A handler's checkpoint defaults are an allow.Allow, applied to a
// checkpoint whose caller passes no options (the kubelet, crictl, ctr with
// a runtime other than runc) and to a restore (containerd's runc-shim code
// passes a restore no flags at all: they reach the runtime as bundle
// annotations). shell_job is accepted for symmetry with the CLI: a
// container's stdio and console are always its caller's.
//
// There is no leave_running: a checkpoint without options always leaves
// the container running (the kubelet's API promises it), and a caller
// wanting it stopped says so in its options (`exit`).

// handlerConfig is what a handler's config may hold: ckpt's defaults, the
// runc options that apply to ckpt's runtime (named as in a runc handler's
// options table), and runtimeoptions' own keys, which CRI copies into
// ConfigBody with the rest of the table. Any other key is refused by name.
type handlerConfig struct {
	TCPEstablished bool   `toml:"tcp_established"`
	FileLocks      bool   `toml:"file_locks"`
	ExtUnixSk      bool   `toml:"ext_unix_sk"`
	ShellJob       bool   `toml:"shell_job"`
	BinaryName     string `toml:"BinaryName"`
	Root           string `toml:"Root"`
	SystemdCgroup  bool   `toml:"SystemdCgroup"`
	NoPivotRoot    bool   `toml:"NoPivotRoot"`
	NoNewKeyring   bool   `toml:"NoNewKeyring"`
	ShimCgroup     string `toml:"ShimCgroup"`
	IoUID          uint32 `toml:"IoUid"`
	IoGID          uint32 `toml:"IoGid"`
	TypeURL        string `toml:"TypeUrl"`
	ConfigPath     string `toml:"ConfigPath"`
}

// ConfigTypeURL is the TypeUrl a handler's options may name for ckpt's
// config (any other is refused; none is the usual case).
const ConfigTypeURL = "io.github.ckpt.handler.v1"

// handlerOptions are a create request's runtime options as runc Options
// (what the runc shim code underneath takes) and the checkpoint defaults
// they carry. runc Options go through createOptions unchanged, with no
// defaults; runtimeoptions.v1.Options are read as a handler config.
func handlerOptions(a *ptypes.Any) (*options.Options, *allow.Allow, error) {
	if a.GetValue() == nil || !typeurl.Is(a, &runtimeoptions.Options{}) {
		o, err := createOptions(a)
		return o, &allow.Allow{}, err
	}
	v, err := typeurl.UnmarshalAny(a)
	if err != nil {
		return nil, nil, fmt.Errorf("runtime options: %w", err)
	}
	ro := v.(*runtimeoptions.Options)
	return fromRuntimeOptions(ro)
}

// fromRuntimeOptions reads the config a runtimeoptions.v1.Options names.
func fromRuntimeOptions(ro *runtimeoptions.Options) (*options.Options, *allow.Allow, error) {
	if ro.TypeUrl != "" && ro.TypeUrl != ConfigTypeURL {
		return nil, nil, fmt.Errorf("runtime options: TypeUrl %q: %s reads only its own config (TypeUrl empty or %q)", ro.TypeUrl, oci.RuntimeType, ConfigTypeURL)
	}
	body, what := ro.ConfigBody, "the handler's options table"
	if ro.ConfigPath != "" {
		var err error
		if body, err = readConfig(ro.ConfigPath); err != nil {
			return nil, nil, fmt.Errorf("runtime options: %w", err)
		}
		what = ro.ConfigPath
	}
	var c handlerConfig
	if len(body) > maxHandlerConfig {
		return nil, nil, fmt.Errorf("runtime options: %s: %d bytes, more than %d", what, len(body), maxHandlerConfig)
	}
	d := toml.NewDecoder(bytes.NewReader(body))
	d.DisallowUnknownFields()
	if err := d.Decode(&c); err != nil {
		var sm *toml.StrictMissingError
		if errors.As(err, &sm) && len(sm.Errors) > 0 {
			return nil, nil, fmt.Errorf("runtime options: %s: unknown key %q (%s takes tcp_established, file_locks, ext_unix_sk, shell_job and runc's BinaryName, Root, SystemdCgroup, NoPivotRoot, NoNewKeyring, ShimCgroup, IoUid, IoGid)",
				what, strings.Join(sm.Errors[0].Key(), "."), oci.RuntimeType)
		}
		return nil, nil, fmt.Errorf("runtime options: %s: %w", what, err)
	}
	if c.ConfigPath != "" && ro.ConfigPath != "" {
		return nil, nil, fmt.Errorf("runtime options: %s names another config file (ConfigPath %q): not followed", what, c.ConfigPath)
	}
	o := &options.Options{
		BinaryName: c.BinaryName, Root: c.Root, SystemdCgroup: c.SystemdCgroup, NoPivotRoot: c.NoPivotRoot,
		NoNewKeyring: c.NoNewKeyring, ShimCgroup: c.ShimCgroup, IoUid: c.IoUID, IoGid: c.IoGID,
	}
	return o, &allow.Allow{TcpEstablished: c.TCPEstablished, FileLocks: c.FileLocks, ExtUnixSk: c.ExtUnixSk, ShellJob: c.ShellJob}, nil
}

// readConfig reads a handler's config file, bounded: it is the operator's
// (named in containerd's config), read by the shim as root.
func readConfig(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config file: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxHandlerConfig+1))
	if err != nil {
		return nil, fmt.Errorf("config file %s: %w", path, err)
	}
	return b, nil
}

// applyDefaults adds a handler's defaults to the options a checkpoint
// request without any stands for (service.go): the permissions it grants.
// Whether the container stops is the client's (caller.go), not the
// handler's.
func applyDefaults(o *options.CheckpointOptions, d *allow.Allow) {
	o.OpenTcp = o.OpenTcp || d.TcpEstablished
	o.FileLocks = o.FileLocks || d.FileLocks
	o.ExternalUnixSockets = o.ExternalUnixSockets || d.ExtUnixSk
	o.Terminal = o.Terminal || d.ShellJob
}

// restoreDefaults marks a restored container's bundle with the handler
// defaults the runtime's restore takes as flags (oci.RestoreFlagAnnotation):
// containerd's runc-shim code runs `restore` with none of them.
func restoreDefaults(config string, d *allow.Allow) error {
	var flags []string
	for _, p := range allow.Permissions {
		// shell-job: a container's restore always takes its caller's stdio.
		if *p.Field(d) && p.Flag != "shell-job" {
			flags = append(flags, p.Flag)
		}
	}
	if len(flags) == 0 {
		return nil
	}
	b, err := os.ReadFile(config)
	if err != nil {
		return err
	}
	var spec map[string]json.RawMessage
	if err := json.Unmarshal(b, &spec); err != nil {
		return fmt.Errorf("%s: %w", config, err)
	}
	ann := map[string]string{}
	if raw, ok := spec["annotations"]; ok {
		if err := json.Unmarshal(raw, &ann); err != nil {
			return fmt.Errorf("%s: annotations: %w", config, err)
		}
	}
	for _, f := range flags {
		ann[oci.RestoreFlagAnnotation+f] = "true"
	}
	if spec["annotations"], err = json.Marshal(ann); err != nil {
		return err
	}
	if b, err = json.Marshal(spec); err != nil {
		return err
	}
	return os.WriteFile(config, b, 0o644)
}

// Manager is the runc shim's manager with Info taking a handler's
// runtimeoptions.v1.Options as well: containerd asks a runtime for its
// info with the handler's options on stdin (CRI does, for every handler,
// at start), and the runc manager reads runc Options only.
func Manager(inner shim.Shim) shim.Shim { return manager{inner} }

type manager struct{ shim.Shim }

// The runc manager's Info runs the OCI runtime binary's `features`: with
// no BinaryName it would look for runc, so ckpt's is filled in as Create
// does.
func (m manager) Info(ctx context.Context, optionsR io.Reader) (*types.RuntimeInfo, error) {
	var b []byte
	if optionsR != nil {
		var err error
		if b, err = io.ReadAll(io.LimitReader(optionsR, 1<<20)); err != nil {
			return nil, fmt.Errorf("read runtime options: %w", err)
		}
	}
	o := &options.Options{}
	if len(b) > 0 {
		var a ptypes.Any
		if err := proto.Unmarshal(b, &a); err != nil {
			return m.Shim.Info(ctx, bytes.NewReader(b))
		}
		var err error
		if o, _, err = handlerOptions(&a); err != nil {
			return nil, err
		}
	}
	if o.BinaryName == "" {
		if bin, err := runtimeBinary(); err == nil {
			o.BinaryName = bin
		}
	}
	x, err := typeurl.MarshalAnyToProto(o)
	if err != nil {
		return nil, err
	}
	if b, err = proto.Marshal(x); err != nil {
		return nil, err
	}
	return m.Shim.Info(ctx, bytes.NewReader(b))
}
