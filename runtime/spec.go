package runtime

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/opencontainers/runc/libcontainer/capabilities"
	"github.com/opencontainers/runc/libcontainer/configs"
	"github.com/opencontainers/runc/libcontainer/seccomp"
	"github.com/opencontainers/runc/libcontainer/specconv"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-spec/specs-go/features"
)

// WriteSpec writes libcontainer's example config.json into bundle; it
// refuses to overwrite one.
func WriteSpec(bundle string) error {
	path := filepath.Join(bundleOr(bundle), "config.json")
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("file %s exists: remove it first", path)
	}
	b, err := json.MarshalIndent(specconv.Example(), "", "\t")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o666)
}

// Features is what `features` prints: the runtime-spec's features
// document, filled with what this runtime accepts.
func Features() *features.Features {
	t := true
	f := &features.Features{
		OCIVersionMin: "1.0.0",
		OCIVersionMax: specs.Version,
		Hooks:         configs.KnownHookNames(),
		MountOptions:  specconv.KnownMountOptions(),
		// Containers run on libcontainer, as runc's: what it accepts,
		// ckpt accepts (checkpoint and restore refuse by name what the
		// engine cannot save).
		Linux: &features.Linux{
			Namespaces:   specconv.KnownNamespaces(),
			Capabilities: knownCaps(),
			Cgroup:       &features.Cgroup{V1: &t, V2: &t, Systemd: &t, SystemdUser: &t, Rdma: &t},
			Seccomp:      &features.Seccomp{Enabled: &seccompEnabled},
			Apparmor:     &features.Apparmor{Enabled: &t},
			Selinux:      &features.Selinux{Enabled: &t},
			MemoryPolicy: &features.MemoryPolicy{
				Modes: specconv.KnownMemoryPolicyModes(),
				Flags: specconv.KnownMemoryPolicyFlags(),
			},
			MountExtensions: &features.MountExtensions{IDMap: &features.IDMap{Enabled: &t}},
			NetDevices:      &features.NetDevices{Enabled: &t},
		},
		Annotations: map[string]string{
			"io.github.ckpt.checkpoint.enabled":          "true",
			"org.opencontainers.runc.checkpoint.enabled": "true",
		},
		// Annotations libcontainer acts on, which a caller passing its
		// users' annotations through should filter (containerd's CRI does).
		PotentiallyUnsafeConfigAnnotations: []string{"bundle", "org.systemd.property."},
	}
	if seccompEnabled {
		// Callers pick the filter flags and actions they may ask for
		// from these, as with runc.
		f.Linux.Seccomp.Actions = seccomp.KnownActions()
		f.Linux.Seccomp.Operators = seccomp.KnownOperators()
		f.Linux.Seccomp.Archs = seccomp.KnownArchs()
		f.Linux.Seccomp.KnownFlags = seccomp.KnownFlags()
		f.Linux.Seccomp.SupportedFlags = seccomp.SupportedFlags()
	}
	return f
}

func knownCaps() []string { return capabilities.KnownCapabilities() }

// seccompEnabled: libcontainer installs seccomp profiles only when built
// with cgo and the "seccomp" tag (libseccomp).
var seccompEnabled = seccomp.Enabled
