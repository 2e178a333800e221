// Package shim is containerd-shim-ckpt-v2: containerd's task API for
// containers run by the ckpt OCI runtime, runtime type
// io.containerd.ckpt.v2.
//
// Lifecycle requests are served by containerd's own runc shim task service
// driving bin/ckpt through its runc-compatible command line (go-runc), so
// they behave exactly as containerd's runc shim does. Two requests are
// intercepted before they get there: Create, to make bin/ckpt the runtime
// and to check a checkpoint to restore from before any task exists, and
// Checkpoint, to refuse the runc checkpoint options the engine cannot
// honour by name instead of letting them be dropped.
package shim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	taskAPI "github.com/containerd/containerd/api/runtime/task/v3"
	"github.com/containerd/containerd/api/types/runc/options"
	"github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2/task"
	"github.com/containerd/containerd/v2/pkg/namespaces"
	ptypes "github.com/containerd/containerd/v2/pkg/protobuf/types"
	"github.com/containerd/containerd/v2/pkg/shim"
	"github.com/containerd/containerd/v2/pkg/shutdown"
	"github.com/containerd/containerd/v2/pkg/sys/reaper"
	"github.com/containerd/containerd/v2/plugins"
	"github.com/containerd/errdefs"
	"github.com/containerd/errdefs/pkg/errgrpc"
	"github.com/containerd/log"
	"github.com/containerd/plugin"
	"github.com/containerd/plugin/registry"
	"github.com/containerd/ttrpc"
	"github.com/containerd/typeurl/v2"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/ckpt/ckpt/internal/allow"
	"github.com/ckpt/ckpt/oci"
)

// DefaultRoot is the OCI runtime's state directory when the container's
// runtime options name none: apart from runc's, so that the two runtimes'
// containers never meet.
const DefaultRoot = "/run/containerd/ckpt"

// RuntimeBinaryEnv, when set, is the OCI runtime binary used for
// containers whose options name none; otherwise `ckpt` next to the shim's
// executable, else `ckpt` on PATH.
const RuntimeBinaryEnv = "CKPT_RUNTIME"

func init() {
	// Registered instead of the runc shim's "task" plugin (whose package
	// is not imported): the same service, wrapped.
	registry.Register(&plugin.Registration{
		Type:     plugins.TTRPCPlugin,
		ID:       "task",
		Requires: []plugin.Type{plugins.EventPlugin, plugins.InternalPlugin},
		InitFn: func(ic *plugin.InitContext) (any, error) {
			pp, err := ic.GetByID(plugins.EventPlugin, "publisher")
			if err != nil {
				return nil, err
			}
			ss, err := ic.GetByID(plugins.InternalPlugin, "shutdown")
			if err != nil {
				return nil, err
			}
			inner, err := task.NewTaskService(ic.Context, pp.(shim.Publisher), ss.(shutdown.Service))
			if err != nil {
				return nil, err
			}
			return &service{TTRPCTaskService: inner}, nil
		},
	})
}

// service is the runc shim's task service with Create and Checkpoint
// intercepted.
type service struct {
	taskAPI.TTRPCTaskService
	// binaries are the OCI runtime binaries of this shim's containers, by
	// container id.
	binaries sync.Map
	// defaults are the checkpoint defaults of this shim's containers'
	// handler options (*allow.Allow, by container id; options.go).
	defaults sync.Map
	// callers are the kinds of client (callerKind) that made this shim's
	// containers, by id: what a checkpoint request without options means
	// (caller.go).
	callers sync.Map
}

var _ = shim.TTRPCService(&service{})

// RegisterTTRPC serves this wrapper, not the inner service.
func (s *service) RegisterTTRPC(server *ttrpc.Server) error {
	taskAPI.RegisterTTRPCTaskService(server, s)
	return nil
}

// Create makes bin/ckpt the container's runtime unless its runc options
// name a binary, and checks a checkpoint directory it is to be restored
// from: a malformed or foreign checkpoint fails here, before the task
// exists, not later at Start. Its errors reach containerd with their
// errdefs class (invalid argument, failed precondition...), as the runc
// shim's do, not as Unknown.
func (s *service) Create(ctx context.Context, r *taskAPI.CreateTaskRequest) (*taskAPI.CreateTaskResponse, error) {
	resp, err := s.create(ctx, r)
	return resp, errgrpc.ToGRPC(err)
}

// classed gives err the errdefs class kind unless it has one.
func classed(kind error, format string, args ...any) error {
	err := fmt.Errorf(format, args...)
	if !errors.Is(errdefs.Resolve(err), errdefs.ErrUnknown) {
		return err
	}
	return fmt.Errorf("%w: %w", kind, err)
}

func (s *service) create(ctx context.Context, r *taskAPI.CreateTaskRequest) (*taskAPI.CreateTaskResponse, error) {
	opts, defaults, err := handlerOptions(r.Options)
	if err != nil {
		return nil, classed(errdefs.ErrInvalidArgument, "create %s: %w", r.ID, err)
	}
	if opts.BinaryName == "" {
		if opts.BinaryName, err = runtimeBinary(); err != nil {
			return nil, classed(errdefs.ErrFailedPrecondition, "create %s: %w", r.ID, err)
		}
	}
	if opts.Root == "" {
		opts.Root = DefaultRoot
	}
	if r.Options, err = typeurl.MarshalAnyToProto(opts); err != nil {
		return nil, classed(errdefs.ErrInternal, "create %s: %w", r.ID, err)
	}
	if r.Checkpoint != "" {
		if err := isCkpt(opts.BinaryName); err != nil {
			return nil, errdefs.ErrFailedPrecondition.WithMessage(fmt.Sprintf("restore %s: %v", r.ID, err))
		}
		if r.ParentCheckpoint != "" {
			return nil, errdefs.ErrNotImplemented.WithMessage(fmt.Sprintf(
				"create %s: restore from a parent checkpoint (%s): ckpt images are whole, not incremental", r.ID, r.ParentCheckpoint))
		}
		ck, err := oci.CheckDir(r.Checkpoint)
		if err != nil {
			return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("restore %s: %v", r.ID, err))
		}
		if err := checkBundlePidns(filepath.Join(r.Bundle, "config.json"), ck); err != nil {
			return nil, classed(errdefs.ErrFailedPrecondition, "restore %s: %w", r.ID, err)
		}
		ns, _ := namespaces.Namespace(ctx)
		if err := restoreBundle(filepath.Join(r.Bundle, "config.json"), ns, ck.Container.ID, r.ID); err != nil {
			return nil, classed(errdefs.ErrFailedPrecondition, "restore %s: %w", r.ID, err)
		}
		if err := restoreDefaults(filepath.Join(r.Bundle, "config.json"), defaults); err != nil {
			return nil, classed(errdefs.ErrFailedPrecondition, "restore %s: %w", r.ID, err)
		}
	}
	kind, err := callerOf(r.Bundle)
	if err != nil {
		return nil, classed(errdefs.ErrFailedPrecondition, "create %s: %w", r.ID, err)
	}
	resp, err := s.TTRPCTaskService.Create(ctx, r)
	if err == nil {
		s.binaries.Store(r.ID, opts.BinaryName)
		s.defaults.Store(r.ID, defaults)
		s.callers.Store(r.ID, kind)
	}
	return resp, err
}

// Checkpoint refuses, by name, the runc checkpoint options the engine
// does not implement; the rest go on to `ckpt checkpoint` through the runc
// shim (exit, open TCP, external unix sockets, file locks, work path; the
// image path is containerd's, which sets r.Path to it). A request without
// options is given those its client means (caller.go): nerdctl's stops
// the container, any other leaves it running.
func (s *service) Checkpoint(ctx context.Context, r *taskAPI.CheckpointTaskRequest) (*ptypes.Empty, error) {
	resp, err := s.checkpoint(ctx, r)
	return resp, errgrpc.ToGRPC(err)
}

func (s *service) checkpoint(ctx context.Context, r *taskAPI.CheckpointTaskRequest) (*ptypes.Empty, error) {
	var o *options.CheckpointOptions
	if r.Options != nil && r.Options.GetValue() != nil {
		v, err := typeurl.UnmarshalAny(r.Options)
		if err != nil {
			return nil, classed(errdefs.ErrInvalidArgument, "checkpoint %s: options: %w", r.ID, err)
		}
		co, ok := v.(*options.CheckpointOptions)
		if !ok {
			return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf(
				"checkpoint %s: options of type %T: %s takes runc CheckpointOptions only", r.ID, v, oci.RuntimeType))
		}
		o = co
	} else {
		// No options: what the client means is read from the container's
		// spec (caller.go), and the runc shim gets it as options.
		kind, _ := s.callers.Load(r.ID)
		k, _ := kind.(callerKind)
		o = defaultCheckpointOptions(k)
		// The handler's defaults (options.go): what the kubelet cannot say.
		if d, ok := s.defaults.Load(r.ID); ok {
			applyDefaults(o, d.(*allow.Allow))
		}
		a, err := typeurl.MarshalAnyToProto(o)
		if err != nil {
			return nil, classed(errdefs.ErrInternal, "checkpoint %s: %w", r.ID, err)
		}
		r.Options = a
	}
	if err := checkCheckpointOptions(o); err != nil {
		return nil, errdefs.ErrNotImplemented.WithMessage(fmt.Sprintf("checkpoint %s: %v", r.ID, err))
	}
	log.G(ctx).WithField("allow", fmt.Sprintf("%+v", allowOf(o))).Debug("checkpoint permissions, passed on as ckpt's flags of the same names")
	if bin, ok := s.binaries.Load(r.ID); ok {
		if err := isCkpt(bin.(string)); err != nil {
			return nil, errdefs.ErrFailedPrecondition.WithMessage(fmt.Sprintf("checkpoint %s: %v", r.ID, err))
		}
	}
	return s.TTRPCTaskService.Checkpoint(ctx, r)
}

// checkCheckpointOptions refuses what the engine cannot honour.
// Terminal is accepted: ckpt treats a container's stdio and console as
// its caller's always (shell-job).
func checkCheckpointOptions(o *options.CheckpointOptions) error {
	if len(o.EmptyNamespaces) > 0 {
		return fmt.Errorf("empty namespaces %v: not supported by ckpt (every namespace of the container is checkpointed)", o.EmptyNamespaces)
	}
	// "soft" is what ckpt does: restore puts the container in the cgroup
	// its bundle names, made by the runtime, with the bundle's limits.
	switch o.CgroupsMode {
	case "", "soft":
	default:
		return fmt.Errorf("cgroups mode %q: not supported by ckpt (only \"soft\": the restored container gets the cgroup its bundle names)", o.CgroupsMode)
	}
	if o.ParentPath != "" {
		return fmt.Errorf("parent path %s: incremental checkpoints are not supported by ckpt", o.ParentPath)
	}
	return nil
}

// allowOf maps runc's checkpoint options to ckpt's permissions: the runc
// shim passes each on as the ckpt flag of allow.Permissions of the same
// meaning (go-runc spells them as runc and ckpt do).
func allowOf(o *options.CheckpointOptions) allow.Allow {
	return allow.Allow{TcpEstablished: o.OpenTcp, FileLocks: o.FileLocks, ExtUnixSk: o.ExternalUnixSockets, ShellJob: o.Terminal}
}

// createOptions are a create request's runc options; containerd sends
// only runc Options (or none) to a runc-compatible shim.
func createOptions(a *ptypes.Any) (*options.Options, error) {
	if a.GetValue() == nil {
		return &options.Options{}, nil
	}
	v, err := typeurl.UnmarshalAny(a)
	if err != nil {
		return nil, fmt.Errorf("runtime options: %w", err)
	}
	o, ok := v.(*options.Options)
	if !ok {
		return nil, fmt.Errorf("runtime options of type %T: %s takes runc Options only", v, oci.RuntimeType)
	}
	return o, nil
}

// runtimeBinary is the ckpt binary the shim drives by default.
func runtimeBinary() (string, error) {
	if p := os.Getenv(RuntimeBinaryEnv); p != "" {
		return p, nil
	}
	if exe, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(exe), "ckpt")
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			return p, nil
		}
	}
	p, err := exec.LookPath("ckpt")
	if err != nil {
		return "", fmt.Errorf("no ckpt OCI runtime: none next to the shim, none on PATH, %s unset", RuntimeBinaryEnv)
	}
	return filepath.Abs(p)
}

// checkBundlePidns: the bundle's pid namespace is of the kind the
// checkpoint's processes go back into (oci.CheckPidns), checked before
// the runc shim makes anything.
func checkBundlePidns(config string, ck *oci.Checkpoint) error {
	b, err := os.ReadFile(config)
	if err != nil {
		return err
	}
	var spec specs.Spec
	if err := json.Unmarshal(b, &spec); err != nil {
		return fmt.Errorf("%s: %w", config, err)
	}
	return oci.CheckPidns(ck, &spec)
}

// restoreBundle adapts the bundle of a container restored from a
// checkpoint of container oldID (its spec is the checkpointed one):
//   - containerd restores into a new snapshot of the image with the
//     checkpointed rw diff applied, the same files on another mount: the
//     rootfs is marked as a copy (oci.RootfsCopyAnnotation);
//   - restored under a new id or in another namespace (or containerd), a
//     cgroup path containerd made for the old container (/<namespace>/<id>,
//     ctr's default) becomes the new one's, so that the old container,
//     maybe still running, keeps its cgroup.
func restoreBundle(config, ns, oldID, newID string) error {
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
	ann[oci.RootfsCopyAnnotation] = "true"
	if spec["annotations"], err = json.Marshal(ann); err != nil {
		return err
	}
	if raw, ok := spec["linux"]; ok && ns != "" {
		var linux map[string]json.RawMessage
		if err := json.Unmarshal(raw, &linux); err != nil {
			return fmt.Errorf("%s: linux: %w", config, err)
		}
		var cg string
		if c, ok := linux["cgroupsPath"]; ok {
			if err := json.Unmarshal(c, &cg); err != nil {
				return fmt.Errorf("%s: linux.cgroupsPath: %w", config, err)
			}
		}
		// containerd's default for a container is /<namespace>/<id>.
		x, id, ok := strings.Cut(strings.TrimPrefix(cg, "/"), "/")
		if want := "/" + ns + "/" + newID; ok && strings.HasPrefix(cg, "/") && x != "" && id == oldID && cg != want {
			linux["cgroupsPath"], _ = json.Marshal(want)
			if spec["linux"], err = json.Marshal(linux); err != nil {
				return err
			}
		}
	}
	if b, err = json.Marshal(spec); err != nil {
		return err
	}
	return os.WriteFile(config, b, 0o644)
}

// ckptFeature is the annotation in `ckpt features` that says the runtime
// checkpoints and restores containers.
const ckptFeature = "io.github.ckpt.checkpoint.enabled"

// isCkpt refuses an OCI runtime binary that is not ckpt (runc options may
// name any): only ckpt's containers can be checkpointed by the engine, and
// only ckpt restores its images. It asks the binary for its features.
func isCkpt(bin string) error {
	// The shim reaps every child it has (it is their subreaper), so the
	// child is started and waited for through its reaper, as the runc
	// shim does, or exec's own wait would find it gone.
	var out bytes.Buffer
	cmd := exec.Command(bin, "features")
	cmd.Stdout = &out
	ec, err := reaper.Default.Start(cmd)
	if err != nil {
		return fmt.Errorf("OCI runtime %s: features: %w", bin, err)
	}
	status, err := reaper.Default.Wait(cmd, ec)
	if err == nil && status != 0 {
		err = fmt.Errorf("exit status %d", status)
	}
	if err != nil {
		return fmt.Errorf("OCI runtime %s: features: %w", bin, err)
	}
	var f struct {
		Annotations map[string]string `json:"annotations"`
	}
	if err := json.Unmarshal(out.Bytes(), &f); err != nil || f.Annotations[ckptFeature] != "true" {
		return fmt.Errorf("the container's OCI runtime %s is not ckpt (its features lack %s): "+
			"a container of another runtime is checkpointed and restored by that runtime's shim", bin, ckptFeature)
	}
	return nil
}
