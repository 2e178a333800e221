package runtime

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/opencontainers/runc/libcontainer/capabilities"
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
	var mountOpts []string
	mountOpts = append(mountOpts, specconv.KnownMountOptions()...)
	return &features.Features{
		OCIVersionMin: "1.0.0",
		OCIVersionMax: specs.Version,
		Hooks:         []string{"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"},
		MountOptions:  mountOpts,
		Linux: &features.Linux{
			Namespaces:   specconv.KnownNamespaces(),
			Capabilities: knownCaps(),
			Cgroup:       &features.Cgroup{V1: &t, V2: &t, Systemd: &t, SystemdUser: &t},
			Seccomp:      &features.Seccomp{Enabled: &seccompEnabled},
			Apparmor:     &features.Apparmor{Enabled: &t},
			Selinux:      &features.Selinux{Enabled: &t},
		},
		Annotations: map[string]string{
			"io.github.ckpt.checkpoint.enabled":          "true",
			"org.opencontainers.runc.checkpoint.enabled": "true",
		},
	}
}

func knownCaps() []string { return capabilities.KnownCapabilities() }

// seccompEnabled: libcontainer installs seccomp profiles only when built
// with cgo and the "seccomp" tag (libseccomp).
var seccompEnabled = seccomp.Enabled
