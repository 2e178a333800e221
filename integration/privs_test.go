package integration

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/moby/sys/capability"
	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/image/imagetest"
)

// Privileges come from the restoring bundle's spec (or the caller), never
// from the image (issue 11, reproduction 2; docs/security.md).

// allCaps is every capability we have (root here may lack some), by name.
func allCaps(t *testing.T) []any {
	t.Helper()
	st, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, _ := strings.Cut(string(st), "CapBnd:\t")
	hex, _, _ := strings.Cut(rest, "\n")
	bnd, err := strconv.ParseUint(hex, 16, 64)
	if err != nil {
		t.Fatalf("CapBnd %q: %v", hex, err)
	}
	var caps []any
	for _, c := range capability.ListKnown() {
		if bnd&(1<<uint(c)) != 0 {
			caps = append(caps, "CAP_"+strings.ToUpper(c.String()))
		}
	}
	return caps
}

func setCaps(c map[string]any, caps []any, nnp bool) {
	p := c["process"].(map[string]any)
	p["capabilities"] = map[string]any{"bounding": caps, "effective": caps, "permitted": caps}
	p["noNewPrivileges"] = nnp
}

// rootfsProcs lists the processes whose root is dir: a container's.
func rootfsProcs(dir string) []string {
	var pids []string
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		if root, err := os.Readlink("/proc/" + e.Name() + "/root"); err == nil && root == dir {
			pids = append(pids, e.Name())
		}
	}
	return pids
}

// refusedAndGone runs a restore of img into bundle b as container id,
// which must fail saying every one of want, and leave no container and no
// process behind.
func (rt *ociRuntime) refusedAndGone(b, img, id string, want ...string) {
	rt.t.Helper()
	out, stderr, err := rt.try("restore", "--bundle", b, "--image-path", img, "-d", id)
	if err == nil {
		rt.t.Fatalf("restore into %s succeeded, want a refusal saying %q\n%s", b, want, out)
	}
	for _, w := range want {
		if !strings.Contains(stderr, w) {
			rt.t.Errorf("restore into %s: error %q does not say %q", b, strings.TrimSpace(stderr), w)
		}
	}
	rt.gone(id)
	rootfs := rt.rootfsOf(b)
	if pids := rootfsProcs(rootfs); len(pids) > 0 {
		rt.t.Errorf("processes left in %s: %v", rootfs, pids)
	}
}

// rootfsOf is a bundle's root directory, as an absolute path.
func (rt *ociRuntime) rootfsOf(b string) string {
	rt.t.Helper()
	var root string
	rt.editConfig(b, func(c map[string]any) { root = c["root"].(map[string]any)["path"].(string) })
	if !filepath.IsAbs(root) {
		root = filepath.Join(b, root)
	}
	return root
}

const sleeperScript = `exec </dev/null >/dev/null 2>&1; while :; do sleep 1; done`

// runSleeper runs a container of sleeperScript and waits until its shell
// has left the runtime's stdio (a file that try removes) for /dev/null.
func (rt *ociRuntime) runSleeper(b, id string) {
	rt.t.Helper()
	rt.ok("run", "-d", "--bundle", b, id)
	pid := rt.state(id).Pid
	waitFor(rt.t, id+" to run its script", func() bool {
		fd1, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/1", pid))
		return err == nil && fd1 == "/dev/null"
	})
}

// TestPrivsNarrowBundle is issue 11's reproduction 2: a container
// checkpointed from a bundle granting every capability, restored with a
// bundle granting only CAP_KILL and CAP_NET_BIND_SERVICE with
// noNewPrivileges, is refused naming the task, the field and both values;
// no container and no process is left. The bundle it came from restores
// it.
func TestPrivsNarrowBundle(t *testing.T) {
	rt := newOCIRuntime(t)
	caps := allCaps(t)
	b := rt.bundle("broad", func(c map[string]any) { setCaps(c, caps, false) }, "sh", "-c", sleeperScript)
	id := fmt.Sprintf("privs%d", os.Getpid())
	rt.runSleeper(b, id)
	st, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", rt.state(id).Pid))
	if err != nil || !strings.Contains(string(st), "NoNewPrivs:\t0") {
		t.Fatalf("the broad container's init: %v\n%s", err, st)
	}
	img := filepath.Join(rt.dir, "img")
	rt.ok("checkpoint", "--image-path", img, id)
	rt.gone(id)

	narrow := rt.withBundleCopy(b, "narrow", func(c map[string]any) {
		setCaps(c, []any{"CAP_KILL", "CAP_NET_BIND_SERVICE"}, true)
	})
	grant := "0x0000000000000420 (CAP_KILL,CAP_NET_BIND_SERVICE)"
	rt.refusedAndGone(narrow, img, id+"n",
		"task 1: bounding capabilities", "task 1: permitted capabilities", "task 1: effective capabilities",
		"goes beyond the bundle's spec's "+grant, "CAP_SYS_ADMIN", "task 1: no_new_privs 0 goes beyond the bundle's spec's 1")

	rt.ok("restore", "--bundle", b, "--image-path", img, "-d", id)
	if rt.state(id).Status != "running" {
		t.Fatalf("%s does not run after its restore", id)
	}
	rt.ok("delete", "--force", id)
}

const probeScript = `exec </dev/null >/dev/null 2>&1
i=0
while :; do
	i=$((i+1))
	if mkdir /tmp/probe.d; then rmdir /tmp/probe.d; r=ok; else r=blocked; fi
	echo "$i $r" > /probe.new && mv /probe.new /probe
	sleep 0.1
done`

// probe reads the container's last probe: its count and whether mkdir
// worked.
func probe(t *testing.T, rootfs string) (int, string) {
	b, _ := os.ReadFile(filepath.Join(rootfs, "probe"))
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return 0, ""
	}
	n, _ := strconv.Atoi(f[0])
	return n, f[1]
}

// TestPrivsSeccompBase: the restoring bundle's seccomp profile is
// installed beneath the image's filters: a container checkpointed without
// one, restored from a bundle whose profile makes mkdir fail, finds mkdir
// blocked.
func TestPrivsSeccompBase(t *testing.T) {
	rt := newOCIRuntime(t)
	b := rt.bundle("probe", nil, "sh", "-c", probeScript)
	rootfs := filepath.Join(b, "rootfs")
	id := fmt.Sprintf("probe%d", os.Getpid())
	rt.ok("run", "-d", "--bundle", b, id)
	waitFor(t, "the probe to run", func() bool { n, r := probe(t, rootfs); return n >= 2 && r == "ok" })
	img := filepath.Join(rt.dir, "img")
	rt.ok("checkpoint", "--image-path", img, id)
	at, _ := probe(t, rootfs)

	blocking := rt.withBundleCopy(b, "blocking", func(c map[string]any) {
		c["linux"].(map[string]any)["seccomp"] = map[string]any{
			"defaultAction": "SCMP_ACT_ALLOW",
			"architectures": []string{"SCMP_ARCH_X86_64"},
			"syscalls":      []any{map[string]any{"names": []string{"mkdir", "mkdirat"}, "action": "SCMP_ACT_ERRNO"}},
		}
	})
	rt.ok("restore", "--bundle", blocking, "--image-path", img, "-d", id)
	waitFor(t, "the restored probe to go on", func() bool { n, _ := probe(t, rootfs); return n > at+2 })
	if n, r := probe(t, rootfs); r != "blocked" {
		t.Errorf("probe %d after the restore: mkdir %s, want it blocked by the bundle's seccomp profile", n, r)
	}
	st, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", rt.state(id).Pid))
	if err != nil || !strings.Contains(string(st), "Seccomp:\t2") || !strings.Contains(string(st), "NoNewPrivs:\t1") {
		t.Errorf("the restored init: %v\n%s", err, st)
	}
	rt.ok("delete", "--force", id)
}

// rewriteImageDir copies the image in dir to a new directory, with edit
// applied to every record, and a valid digest: only its content lies.
func rewriteImageDir(t *testing.T, dir, out string, edit func(image.Record)) string {
	t.Helper()
	err := imagetest.Rewrite(filepath.Join(dir, image.FileName), filepath.Join(out, image.FileName),
		func(rec image.Record) image.Record { edit(rec); return rec })
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestPrivsHostileImage: a container running as uid 1000 under the
// example spec (CAP_AUDIT_WRITE, CAP_KILL, CAP_NET_BIND_SERVICE,
// noNewPrivileges, 1024 files), its image rewritten through the image
// package with a valid digest to ask for more, restored with its own
// bundle: each refused before the container exists. The image as it was
// restores: a process that is not root gets its credentials back.
func TestPrivsHostileImage(t *testing.T) {
	rt := newOCIRuntime(t)
	b := rt.bundle("uid1000", func(c map[string]any) {
		c["process"].(map[string]any)["user"] = map[string]any{"uid": 1000, "gid": 1000}
	}, "sh", "-c", sleeperScript)
	id := fmt.Sprintf("hostile%d", os.Getpid())
	rt.runSleeper(b, id)
	img := filepath.Join(rt.dir, "img")
	rt.ok("checkpoint", "--image-path", img, id)
	rt.gone(id)

	for _, c := range []struct {
		name, want string
		edit       func(*image.Creds, *image.Rlimits)
	}{
		{"raised capabilities", "task 1: permitted capabilities 0x000001ffffffffff goes beyond the bundle's spec's 0x0000000020000420",
			func(c *image.Creds, _ *image.Rlimits) { c.CapPrm, c.CapEff, c.CapBnd = 1<<41-1, 1<<41-1, 1<<41-1 }},
		{"uid 0", "task 1: uids (real/effective/saved/fs) 0/0/0/0 goes beyond the bundle's spec's 1000",
			func(c *image.Creds, _ *image.Rlimits) { c.Uid, c.Euid, c.Suid, c.Fsuid = 0, 0, 0, 0 }},
		{"no_new_privs off", "task 1: no_new_privs 0 goes beyond the bundle's spec's 1",
			func(c *image.Creds, _ *image.Rlimits) { c.NoNewPrivs = 0 }},
		{"rlimits above the spec", "task 1: RLIMIT_NOFILE hard limit 1048576 goes beyond the bundle's spec's 1024",
			func(_ *image.Creds, r *image.Rlimits) {
				r.Limits[unix.RLIMIT_NOFILE] = image.Rlimit{Cur: 1 << 20, Max: 1 << 20}
			}},
	} {
		t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
			rt.t = t
			bad := rewriteImageDir(t, img, filepath.Join(rt.dir, strings.ReplaceAll(c.name, " ", "_")), func(rec image.Record) {
				switch x := rec.(type) {
				case *image.Creds:
					c.edit(x, &image.Rlimits{Limits: make([]image.Rlimit, image.NRlimits)})
				case *image.Rlimits:
					c.edit(&image.Creds{}, x)
				}
			})
			rt.refusedAndGone(b, bad, id, c.want)
		})
	}
	rt.t = t

	rt.ok("restore", "--bundle", b, "--image-path", img, "-d", id)
	st, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", rt.state(id).Pid))
	if err != nil || !strings.Contains(string(st), "Uid:\t1000\t1000\t1000\t1000") || !strings.Contains(string(st), "CapEff:\t0000000000000000") {
		t.Errorf("the restored init of a uid 1000 container: %v\n%s", err, st)
	}
	rt.ok("delete", "--force", id)
}

// TestPrivsCaller: in process form the image can ask for no more than the
// caller has. A root process is checkpointed, then restored by a ckpt
// whose bounding set lacks CAP_SYS_ADMIN (setpriv): refused naming the
// task, the field and both values, and no process made. Restored by
// plain root, it runs.
func TestPrivsCaller(t *testing.T) {
	requireRoot(t)
	needCkpt(t)
	cmd := exec.Command("/bin/busybox", "sleep", "1000")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	dir := t.TempDir()
	img := filepath.Join(dir, "img")
	checkpoint(t, pid, img, false)
	cmd.Wait()

	c := exec.Command("setpriv", "--bounding-set", "-sys_admin", ckptBin, "restore", "--image-path", img,
		"--detach", "--pid-file", filepath.Join(dir, "pid"))
	out, err := c.CombinedOutput()
	if err == nil {
		_ = unix.Kill(pid, unix.SIGKILL)
		t.Fatalf("a restore by a caller without CAP_SYS_ADMIN succeeded:\n%s", out)
	}
	for _, want := range []string{fmt.Sprintf("task %d: bounding capabilities", pid), "goes beyond the caller's", "CAP_SYS_ADMIN not granted",
		fmt.Sprintf("task %d: permitted capabilities", pid)} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the refusal %q does not say %q", strings.TrimSpace(string(out)), want)
		}
	}
	if err := unix.Kill(pid, 0); !errors.Is(err, unix.ESRCH) {
		t.Errorf("task %d exists after the refused restore: %v", pid, err)
	}

	got := restoreDetached(t, img, filepath.Join(dir, "pid2"))
	defer unix.Kill(got, unix.SIGKILL)
	if got != pid {
		t.Errorf("restored as %d, want %d", got, pid)
	}
}
