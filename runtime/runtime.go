// Package runtime is ckpt's OCI runtime: runc's verbs on libcontainer, and
// checkpoint and restore of a whole container by ckpt's engine.
//
// A container is kept where libcontainer keeps it: a state directory
// <root>/<id> holding state.json. Nothing of ckpt's own is stored beside it:
// checkpoint and restore find what they need in libcontainer's state and
// in the bundle.
package runtime

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/configs"
	"github.com/opencontainers/runc/libcontainer/specconv"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// DefaultRoot is where container state lives unless --root says otherwise.
const DefaultRoot = "/run/ckpt"

// Runtime is the set of containers under one state root.
type Runtime struct {
	Root          string
	SystemdCgroup bool
	Log           *slog.Logger
	// workPath, set by WithWorkPath, receives a checkpoint's or restore's
	// statistics.
	workPath string
}

func (r *Runtime) log() *slog.Logger {
	if r.Log == nil {
		return slog.Default()
	}
	return r.Log
}

func (r *Runtime) root() (string, error) {
	root := r.Root
	if root == "" {
		root = DefaultRoot
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return "", fmt.Errorf("state root %q: %w", root, err)
	}
	return abs, nil
}

// ErrNotSupported is wrapped by every refusal of a flag or setting ckpt
// does not implement: callers see "not supported: ..." and never a silent
// no-op.
var ErrNotSupported = errors.New("not supported")

func notSupported(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrNotSupported, fmt.Sprintf(format, args...))
}

// Load opens an existing container.
func (r *Runtime) Load(id string) (*libcontainer.Container, error) {
	if id == "" {
		return nil, errors.New("container id cannot be empty")
	}
	root, err := r.root()
	if err != nil {
		return nil, err
	}
	c, err := libcontainer.Load(root, id)
	if err != nil {
		return nil, fmt.Errorf("container %s: %w", id, err)
	}
	return c, nil
}

// LoadSpec reads a bundle's config.json.
func LoadSpec(bundle string) (*specs.Spec, error) {
	b, err := os.ReadFile(filepath.Join(bundle, "config.json"))
	if err != nil {
		return nil, fmt.Errorf("bundle %s: %w", bundle, err)
	}
	var spec specs.Spec
	if err := json.Unmarshal(b, &spec); err != nil {
		return nil, fmt.Errorf("bundle %s: config.json: %w", bundle, err)
	}
	if spec.Process == nil {
		return nil, fmt.Errorf("bundle %s: config.json has no process", bundle)
	}
	return &spec, nil
}

// CreateOpts are the bundle-related options of create, run and restore.
type CreateOpts struct {
	Bundle       string
	NoPivot      bool
	NoNewKeyring bool
}

// config turns the bundle's spec into libcontainer's configuration. The
// process changes directory to the bundle, as specconv resolves relative
// paths (rootfs, bind sources) against the current directory and records
// it as the bundle.
func (r *Runtime) config(id string, spec *specs.Spec, o CreateOpts) (*configs.Config, error) {
	bundle := o.Bundle
	if bundle == "" {
		bundle = "."
	}
	if err := os.Chdir(bundle); err != nil {
		return nil, fmt.Errorf("bundle %s: %w", bundle, err)
	}
	if spec.Linux == nil {
		return nil, fmt.Errorf("bundle %s: config.json has no linux section", bundle)
	}
	return specconv.CreateLibcontainerConfig(&specconv.CreateOpts{
		CgroupName:       id,
		UseSystemdCgroup: r.SystemdCgroup,
		NoPivotRoot:      o.NoPivot,
		NoNewKeyring:     o.NoNewKeyring,
		Spec:             spec,
	})
}

// create makes the container's state directory and configuration; nothing
// runs yet.
func (r *Runtime) create(id string, spec *specs.Spec, o CreateOpts) (*libcontainer.Container, error) {
	cfg, err := r.config(id, spec, o)
	if err != nil {
		return nil, err
	}
	root, err := r.root()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, err
	}
	c, err := libcontainer.Create(root, id, cfg)
	if err != nil {
		return nil, fmt.Errorf("container %s: %w", id, err)
	}
	return c, nil
}

// Bundle is the bundle directory a container was created from.
func Bundle(c *libcontainer.Container) string {
	for _, l := range c.Config().Labels {
		if v, ok := strings.CutPrefix(l, "bundle="); ok {
			return v
		}
	}
	return ""
}

// NotSupported is the error for a flag or setting ckpt does not implement.
func NotSupported(what string) error { return notSupported("%s", what) }
