package restore

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/proc"
	"github.com/ckpt/ckpt/internal/remote"
)

// statusCreds are the credentials /proc shows for a task (thread tid of
// process pid), securebits and seccomp aside.
func statusCreds(pid, tid int) (*image.Creds, *proc.Status, error) {
	st, err := proc.ReadTaskStatus(pid, tid)
	if err != nil {
		return nil, nil, err
	}
	return &image.Creds{
		Uid: st.Uid[0], Euid: st.Uid[1], Suid: st.Uid[2], Fsuid: st.Uid[3],
		Gid: st.Gid[0], Egid: st.Gid[1], Sgid: st.Gid[2], Fsgid: st.Gid[3],
		CapInh: st.CapInh, CapPrm: st.CapPrm, CapEff: st.CapEff, CapBnd: st.CapBnd, CapAmb: st.CapAmb,
		NoNewPrivs: uint32(st.NoNewPrivs), Groups: st.Groups,
	}, st, nil
}

// credsEqual compares everything but securebits, which /proc does not
// show: b must have none.
func credsEqual(a, b *image.Creds) bool {
	return credsDiff(a, b) == "" && b.Securebits == 0
}

// credsDiff says how the credentials got differ from want ("" if they do
// not), securebits aside. Groups are compared as sets: setgroups(2) sorts
// them.
func credsDiff(got, want *image.Creds) string {
	var d []string
	ids := func(name string, g, w [4]uint32) {
		if g != w {
			d = append(d, fmt.Sprintf("%s %v, want %v", name, g, w))
		}
	}
	ids("uids", [4]uint32{got.Uid, got.Euid, got.Suid, got.Fsuid}, [4]uint32{want.Uid, want.Euid, want.Suid, want.Fsuid})
	ids("gids", [4]uint32{got.Gid, got.Egid, got.Sgid, got.Fsgid}, [4]uint32{want.Gid, want.Egid, want.Sgid, want.Fsgid})
	if !slices.Equal(uniq(got.Groups), uniq(want.Groups)) {
		d = append(d, fmt.Sprintf("groups %v, want %v", got.Groups, want.Groups))
	}
	caps := func(name string, g, w uint64) {
		if g != w {
			d = append(d, fmt.Sprintf("%s capabilities %#016x, want %#016x", name, g, w))
		}
	}
	caps("bounding", got.CapBnd, want.CapBnd)
	caps("permitted", got.CapPrm, want.CapPrm)
	caps("effective", got.CapEff, want.CapEff)
	caps("inheritable", got.CapInh, want.CapInh)
	caps("ambient", got.CapAmb, want.CapAmb)
	if got.NoNewPrivs != want.NoNewPrivs {
		d = append(d, fmt.Sprintf("no_new_privs %d, want %d", got.NoNewPrivs, want.NoNewPrivs))
	}
	return strings.Join(d, "; ")
}

// wantCreds are the credentials a task of the image gets: the image's,
// with no_new_privs forced on when the grant says so.
func wantCreds(c *image.Creds, g *Grant) *image.Creds {
	w := *c
	if g != nil && g.NoNewPrivs {
		w.NoNewPrivs = 1
	}
	return &w
}

// verifyThread reads a restored thread's credentials and seccomp state
// back, before it runs: anything but what the image asked for (within
// the grant) kills the restore. A kernel that silently kept a capability,
// a step that did not happen, a filter missing: none of it reaches a
// running task.
//
// Preconditions:
//   - must run on the tracer thread; the thread is ptrace-stopped.
func (rs *restorer) verifyThread(t *taskPlan, rt *remote.Task, tid int32) error {
	want := wantCreds(t.creds, rs.opts.Grant)
	got, st, err := statusCreds(t.pid, rt.Tid)
	if err != nil {
		return fmt.Errorf("read back credentials: %w", err)
	}
	if d := credsDiff(got, want); d != "" {
		return fmt.Errorf("credentials read back differ from the image's: %s", d)
	}
	if rs.opts.Grant != nil {
		if err := rs.opts.Grant.checkCreds(t.rec.Pid, got); err != nil {
			return fmt.Errorf("credentials read back: %w", err)
		}
	}
	sb, err := rt.Syscall(unix.SYS_PRCTL, unix.PR_GET_SECUREBITS)
	if err != nil {
		return fmt.Errorf("read back securebits: prctl(PR_GET_SECUREBITS): %w", err)
	}
	if uint32(sb) != want.Securebits {
		return fmt.Errorf("securebits read back %#x, want %#x", sb, want.Securebits)
	}
	mode := 0 // SECCOMP_MODE_DISABLED
	if rs.opts.Grant != nil && rs.opts.Grant.Seccomp {
		mode = int(image.SeccompModeFilter)
	}
	for _, x := range t.seccomp {
		if x.Tid == tid {
			mode = int(x.Mode)
		}
	}
	if st.Seccomp != mode {
		return fmt.Errorf("seccomp mode read back %d, want %d", st.Seccomp, mode)
	}
	if int(tid) == int(t.rec.Pid) {
		if err := checkRlimits(t); err != nil {
			return err
		}
	}
	return checkLabels(t.pid, rt.Tid, rs.opts.Grant)
}

// checkRlimits reads the process's resource limits back, from
// /proc/PID/limits: prlimit(2) would need CAP_SYS_RESOURCE for a task of
// another uid.
func checkRlimits(t *taskPlan) error {
	lims, err := proc.Limits(t.pid)
	if err != nil {
		return fmt.Errorf("read back resource limits: %w", err)
	}
	if len(lims) != len(t.rlimits.Limits) {
		return fmt.Errorf("read back %d resource limits, want %d", len(lims), len(t.rlimits.Limits))
	}
	for res, l := range t.rlimits.Limits {
		got := lims[res]
		if got.Cur != l.Cur || got.Max != l.Max {
			return fmt.Errorf("%s read back %s/%s, want %s/%s", rlimitName(res), fmtLimit(got.Cur), fmtLimit(got.Max), fmtLimit(l.Cur), fmtLimit(l.Max))
		}
	}
	return nil
}

// checkLabels reads a thread's LSM label back: the runtime applied the
// spec's to the stub (libcontainer refuses a label the host cannot apply),
// and every task inherits it.
func checkLabels(pid, tid int, g *Grant) error {
	if g == nil || (g.AppArmorProfile == "" && g.SelinuxLabel == "") {
		return nil
	}
	read := func(attr string) string {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/attr/%s", pid, tid, attr))
		return strings.TrimRight(string(b), "\x00\n")
	}
	aa := read("apparmor/current")
	if aa == "" {
		aa = read("current")
	}
	return labelsMatch(aa, read("current"), g)
}

// labelsMatch compares the labels read back (AppArmor's "profile (mode)",
// SELinux's context) with the grant's.
func labelsMatch(apparmor, selinux string, g *Grant) error {
	if p := g.AppArmorProfile; p != "" && apparmor != p && !strings.HasPrefix(apparmor, p+" (") {
		return fmt.Errorf("AppArmor profile read back %q, want %q", apparmor, p)
	}
	if l := g.SelinuxLabel; l != "" && selinux != l {
		return fmt.Errorf("SELinux label read back %q, want %q", selinux, l)
	}
	return nil
}

// restoreGrant is the grant of this restore: the runtime's for a
// container, the caller's own credentials for a process.
func restoreGrant(opts *Options) (*Grant, error) {
	if opts.Grant != nil {
		return opts.Grant, nil
	}
	if opts.Adopt != nil {
		return nil, fmt.Errorf("restoring into a container needs the grant of the bundle's spec")
	}
	return CallerGrant()
}

// lastCap is the highest capability number this kernel knows.
func lastCap() (int, error) {
	b, err := os.ReadFile("/proc/sys/kernel/cap_last_cap")
	if err != nil {
		return 0, err
	}
	var n int
	if _, err := fmt.Sscan(string(b), &n); err != nil || n < 0 || n > 63 {
		return 0, fmt.Errorf("/proc/sys/kernel/cap_last_cap: %q", b)
	}
	return n, nil
}
