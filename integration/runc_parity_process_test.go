package integration

import (
	"strings"
	"testing"
)

// TestRuncParityProcess: how runc sets up a container's process, where its
// bats suite looks: HOME from the rootfs's /etc/passwd when the spec sets
// none (env.bats), the message of an execve failure (run.bats), a tmpfs
// mount's mode option (mounts.bats), and no fd of the runtime's leaking
// into the container beyond stdio (create.bats "runc create fd leaks").
func TestRuncParityProcess(t *testing.T) {
	rt := newOCIRuntime(t)

	noHome := func(c map[string]any) {
		p := c["process"].(map[string]any)
		var env []any
		for _, e := range p["env"].([]any) {
			if !strings.HasPrefix(e.(string), "HOME=") {
				env = append(env, e)
			}
		}
		p["env"] = env
	}
	if out := rt.ok("run", "--bundle", rt.bundle("home", noHome, "sh", "-c", "echo $HOME"), "home"); out != "/root\n" {
		t.Errorf("HOME of uid 0 without one in the spec: %q, want /root (from /etc/passwd)", out)
	}

	_, stderr, err := rt.try("run", "--bundle", rt.bundle("noexec", nil, "/no/such/binary"), "noexec")
	if err == nil || !strings.Contains(stderr, "no such file or directory") || !strings.Contains(stderr, "/no/such/binary") {
		t.Errorf("run of a missing binary: %v\n%s", err, stderr)
	}
	rt.try("delete", "-f", "noexec")

	tmpfs := func(c map[string]any) {
		c["mounts"] = append(c["mounts"].([]any), map[string]any{
			"destination": "/tmp/t", "type": "tmpfs", "source": "tmpfs", "options": []any{"mode=1711"}})
	}
	if out := rt.ok("run", "--bundle", rt.bundle("tmpfs", tmpfs, "stat", "-c", "%a", "/tmp/t"), "tmpfs"); out != "1711\n" {
		t.Errorf("a tmpfs mounted with mode=1711: %q", out)
	}

	out := rt.ok("run", "--bundle", rt.bundle("fds", nil, "ls", "/proc/self/fd"), "fds")
	if fds := strings.Fields(out); len(fds) != 4 { // 0 1 2 and ls's own directory
		t.Errorf("fds of a container's process: %v, want stdio and ls's own", fds)
	}
}
