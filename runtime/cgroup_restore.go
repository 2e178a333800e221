package runtime

import (
	"path"

	"github.com/opencontainers/runc/libcontainer/configs"
)

// ownCgroup gives a container restored under another id than the
// checkpointed one a cgroup of its own when the bundle's is named after the
// checkpointed container: callers that restore from a checkpoint's own
// spec (containerd's runc shim with `ctr containers restore`, nerdctl)
// keep the cgroup path containerd made for the checkpointed container
// (/<namespace>/<id>, or slice:prefix:<id> with systemd), and that
// container may still run there; libcontainer refuses a new container in
// a cgroup holding processes, and sharing it would mix two containers'
// limits and statistics. The last element is changed to the new id, as
// the caller would have named a new container's; any other path is kept.
func (r *Runtime) ownCgroup(cfg *configs.Config, oldID, newID string) {
	cg := cfg.Cgroups
	if oldID == "" || oldID == newID || cg == nil {
		return
	}
	switch {
	case cg.Path != "" && path.Base(cg.Path) == oldID:
		was := cg.Path
		cg.Path = path.Join(path.Dir(cg.Path), newID)
		r.log().Info("the restored container's cgroup is named after it, not the checkpointed one", "cgroup", cg.Path, "spec", was)
	case r.SystemdCgroup && cg.Path == "" && cg.Parent != "" && cg.Name == oldID:
		cg.Name = newID
		r.log().Info("the restored container's systemd unit is named after it, not the checkpointed one", "name", newID, "spec", oldID)
	}
}
