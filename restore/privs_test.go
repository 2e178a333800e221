package restore

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moby/sys/capability"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/kernel"
)

func bit(c capability.Cap) uint64 { return 1 << uint(c) }

const (
	capKill = 1 << 5  // CAP_KILL
	capNBS  = 1 << 10 // CAP_NET_BIND_SERVICE
)

// narrowSpec is issue 11's restoring bundle: uid 1000, CAP_KILL and
// CAP_NET_BIND_SERVICE only, no_new_privs, at most 1024 open files.
func narrowSpec() *specs.Spec {
	caps := []string{"CAP_KILL", "CAP_NET_BIND_SERVICE"}
	return &specs.Spec{
		Process: &specs.Process{
			User:            specs.User{UID: 1000, GID: 1000, AdditionalGids: []uint32{27}},
			NoNewPrivileges: true,
			Capabilities:    &specs.LinuxCapabilities{Bounding: caps, Permitted: caps, Effective: caps},
			Rlimits:         []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Hard: 1024, Soft: 1024}},
		},
		Linux: &specs.Linux{},
	}
}

// legitCreds is what a process of narrowSpec has.
func legitCreds() *image.Creds {
	return &image.Creds{Uid: 1000, Euid: 1000, Suid: 1000, Fsuid: 1000, Gid: 1000, Egid: 1000, Sgid: 1000, Fsgid: 1000,
		CapBnd: capKill | capNBS, CapPrm: capKill | capNBS, CapEff: capKill | capNBS, NoNewPrivs: 1, Groups: []uint32{27}}
}

// legitRlimits are this process's own limits (what a container inherits
// from its runtime), with narrowSpec's RLIMIT_NOFILE.
func legitRlimits(t *testing.T) *image.Rlimits {
	r := &image.Rlimits{Limits: make([]image.Rlimit, image.NRlimits)}
	for res := range r.Limits {
		var l unix.Rlimit
		if err := unix.Getrlimit(res, &l); err != nil {
			t.Fatal(err)
		}
		r.Limits[res] = image.Rlimit{Cur: l.Cur, Max: l.Max}
	}
	r.Limits[unix.RLIMIT_NOFILE] = image.Rlimit{Cur: 1024, Max: 1024}
	return r
}

func TestSpecGrant(t *testing.T) {
	g, err := SpecGrant(narrowSpec())
	if err != nil {
		t.Fatal(err)
	}
	if g.CapBnd != capKill|capNBS || g.CapPrm != capKill|capNBS || g.CapInh != capKill|capNBS || !g.NoNewPrivs ||
		g.Rlimits[unix.RLIMIT_NOFILE] != 1024 || g.Uids[0] != 1000 || g.Gids[0] != 1000 || g.Groups[0] != 27 || g.Seccomp {
		t.Errorf("narrow spec: %+v", g)
	}

	// (Without CAP_SETPCAP, capset(2) raises the inheritable set within
	// the permitted one.)

	// uid 0 without no_new_privs: the runtime's execve of the process
	// gives it the whole bounding set.
	s := narrowSpec()
	s.Process.User = specs.User{}
	s.Process.NoNewPrivileges = false
	s.Process.Capabilities.Bounding = []string{"CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SETPCAP"}
	s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow}
	if g, err = SpecGrant(s); err != nil {
		t.Fatal(err)
	}
	all := capKill | capNBS | bit(capability.CAP_SETPCAP)
	if g.CapPrm != all || g.CapInh != all || !g.Seccomp {
		t.Errorf("root spec without no_new_privs: permitted %#x inheritable %#x, want %#x", g.CapPrm, g.CapInh, all)
	}

	// No capabilities section: the runtime's own.
	s = narrowSpec()
	s.Process.Capabilities = nil
	if g, err = SpecGrant(s); err != nil {
		t.Fatal(err)
	}
	if c, err := CallerGrant(); err != nil || g.CapBnd != c.CapBnd || g.CapPrm != c.CapPrm {
		t.Errorf("no capabilities in the spec: bounding %#x permitted %#x, the caller's %+v (%v)", g.CapBnd, g.CapPrm, c, err)
	}

	// A user namespace: the image holds host ids.
	s = narrowSpec()
	s.Linux.Namespaces = []specs.LinuxNamespace{{Type: specs.UserNamespace}}
	s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
	s.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 200000, Size: 65536}}
	if g, err = SpecGrant(s); err != nil {
		t.Fatal(err)
	}
	if g.Uids[0] != 101000 || g.Gids[0] != 201000 || g.Groups[0] != 200027 {
		t.Errorf("user namespace: uids %v gids %v groups %v", g.Uids, g.Gids, g.Groups)
	}
	s.Linux.UIDMappings[0].Size = 1000
	if _, err := SpecGrant(s); err == nil || !strings.Contains(err.Error(), "uid 1000 is not mapped") {
		t.Errorf("unmapped uid: %v", err)
	}
}

// TestGrantRule is the rule of privs.go, case by case: asking for less is
// fine, anything more is refused naming the field.
func TestGrantRule(t *testing.T) {
	g, err := SpecGrant(narrowSpec())
	if err != nil {
		t.Fatal(err)
	}
	setuid := *g
	setuid.CapPrm |= bit(capability.CAP_SETUID) | bit(capability.CAP_SETGID) | bit(capability.CAP_SETPCAP)
	setuid.CapBnd = setuid.CapPrm
	setuid.CapInh = inhCeiling(0, setuid.CapPrm, setuid.CapBnd)
	for _, c := range []struct {
		name  string
		g     *Grant
		edit  func(*image.Creds)
		field string // "" when allowed
	}{
		{"as granted", g, func(*image.Creds) {}, ""},
		{"dropped capabilities", g, func(c *image.Creds) { c.CapPrm, c.CapEff, c.CapBnd = capKill, 0, capKill }, ""},
		{"fewer groups", g, func(c *image.Creds) { c.Groups = nil }, ""},
		{"keep-caps", g, func(c *image.Creds) { c.Securebits = secbitKeepCaps }, ""},
		{"raised permitted", g, func(c *image.Creds) { c.CapPrm |= bit(capability.CAP_SYS_ADMIN) }, "permitted capabilities"},
		{"raised effective", g, func(c *image.Creds) { c.CapEff |= bit(capability.CAP_SYS_ADMIN) }, "effective capabilities"},
		{"raised bounding", g, func(c *image.Creds) { c.CapBnd = 1<<41 - 1 }, "bounding capabilities"},
		{"inheritable within permitted", g, func(c *image.Creds) { c.CapInh = capKill }, ""},
		{"ambient within permitted and inheritable", g, func(c *image.Creds) { c.CapInh, c.CapAmb = capKill, capKill }, ""},
		{"raised inheritable", g, func(c *image.Creds) { c.CapInh = bit(capability.CAP_SYS_ADMIN) }, "inheritable capabilities"},
		{"raised ambient", g, func(c *image.Creds) { c.CapAmb = bit(capability.CAP_SYS_ADMIN) }, "ambient capabilities"},
		{"uid 0", g, func(c *image.Creds) { c.Uid, c.Euid, c.Suid, c.Fsuid = 0, 0, 0, 0 }, "uids"},
		{"saved uid 0", g, func(c *image.Creds) { c.Suid = 0 }, "uids"},
		{"fs gid 0", g, func(c *image.Creds) { c.Fsgid = 0 }, "gids"},
		{"group 0", g, func(c *image.Creds) { c.Groups = []uint32{0, 27} }, "supplementary groups"},
		{"securebits", g, func(c *image.Creds) { c.Securebits = 1 << 2 }, "securebits"},
		{"no_new_privs off", g, func(c *image.Creds) { c.NoNewPrivs = 0 }, "no_new_privs"},
		{"another uid with CAP_SETUID", &setuid, func(c *image.Creds) { c.Uid, c.Euid, c.Suid, c.Fsuid = 33, 33, 0, 33 }, ""},
		{"another gid with CAP_SETGID", &setuid, func(c *image.Creds) { c.Gid, c.Groups = 5, []uint32{0, 4} }, ""},
		{"inheritable within bounding with CAP_SETPCAP", &setuid, func(c *image.Creds) { c.CapInh = bit(capability.CAP_SETUID) }, ""},
	} {
		cr := legitCreds()
		c.edit(cr)
		err := c.g.checkCreds(7, cr)
		switch {
		case c.field == "" && err != nil:
			t.Errorf("%s: refused: %v", c.name, err)
		case c.field != "" && !errors.Is(err, ErrPrivilege):
			t.Errorf("%s: %v, want a PrivilegeError", c.name, err)
		case c.field != "" && !strings.Contains(err.Error(), "task 7: "+c.field):
			t.Errorf("%s: %q does not name task 7 and %s", c.name, err, c.field)
		}
	}

	t.Run("rlimits", func(t *testing.T) {
		r := legitRlimits(t)
		if err := g.checkRlimits(7, r); err != nil {
			t.Fatalf("as granted: %v", err)
		}
		r.Limits[unix.RLIMIT_NOFILE] = image.Rlimit{Cur: 512, Max: 512}
		if err := g.checkRlimits(7, r); err != nil {
			t.Fatalf("lowered: %v", err)
		}
		r.Limits[unix.RLIMIT_NOFILE] = image.Rlimit{Cur: 1024, Max: 1 << 20}
		err := g.checkRlimits(7, r)
		if !errors.Is(err, ErrPrivilege) || !strings.Contains(err.Error(), "task 7: RLIMIT_NOFILE hard limit 1048576 goes beyond the bundle's spec's 1024") {
			t.Errorf("raised: %v", err)
		}
		r.Limits[unix.RLIMIT_NOFILE] = image.Rlimit{Cur: 1000, Max: 10}
		if err := g.checkRlimits(7, r); !errors.Is(err, ErrBadImage) {
			t.Errorf("soft above hard: %v", err)
		}
		r.Limits = r.Limits[:unix.RLIMIT_NOFILE]
		if err := g.checkRlimits(7, r); !errors.Is(err, ErrBadImage) {
			t.Errorf("limits left out: %v", err)
		}
	})

	t.Run("sched", func(t *testing.T) {
		r := legitRlimits(t)
		r.Limits[unix.RLIMIT_RTPRIO] = image.Rlimit{Cur: 10, Max: 10}
		r.Limits[unix.RLIMIT_NICE] = image.Rlimit{Cur: 25, Max: 25} // nice down to -5
		for _, c := range []struct {
			s  image.Sched
			ok bool
		}{
			{image.Sched{Tid: 8, Nice: g.Nice}, true},
			{image.Sched{Tid: 8, Nice: 19}, true},
			{image.Sched{Tid: 8, Nice: -5}, true},
			{image.Sched{Tid: 8, Nice: -6}, false},
			{image.Sched{Tid: 8, Policy: schedFIFO, Priority: 10}, true},
			{image.Sched{Tid: 8, Policy: schedRR, Priority: 11}, false},
			{image.Sched{Tid: 8, Policy: schedDeadline}, false},
		} {
			err := g.checkSched(7, &c.s, r)
			if c.ok != (err == nil) || (err != nil && !strings.Contains(err.Error(), "task 7: thread 8")) {
				t.Errorf("%+v: %v", c.s, err)
			}
		}
	})
}

// hostileImage writes an image of one task with creds and rlimits, with a
// valid digest, into a file of dir.
func hostileImage(t *testing.T, dir string, c *image.Creds, r *image.Rlimits) string {
	t.Helper()
	hdr := image.NewHeader()
	hdr.Consts.XStateLen = uint32(kernel.XStateSize())
	hdr.XFeatures = 0
	task := image.Task{Pid: 1, Pgid: 1, Sid: 1, Flags: image.TaskFlagPidnsInit, NrThreads: 1}
	var b bytes.Buffer
	w := image.NewWriter(&b)
	for _, rec := range []image.Record{hdr, &image.Container{ID: "hostile"}, &image.Pstree{Tasks: []image.Task{task}}, &task, c,
		&image.TaskMisc{Dumpable: 1}, r} {
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "image.ckpt")
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := image.Validate(bytes.NewReader(b.Bytes())); err != nil {
		t.Fatalf("the hostile image is not valid: %v", err)
	}
	return path
}

// children lists this process's children.
func children(t *testing.T) string {
	t.Helper()
	tasks, _ := filepath.Glob("/proc/self/task/*/children")
	var all []string
	for _, f := range tasks {
		b, _ := os.ReadFile(f)
		all = append(all, strings.Fields(string(b))...)
	}
	return strings.Join(all, " ")
}

// TestHostileImages: images rewritten with valid digests to ask for more
// than the spec grants are refused before any task exists, whether the
// image is a file (into a container) or a stream.
func TestHostileImages(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("restore needs root")
	}
	g, err := SpecGrant(narrowSpec())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, want string
		creds      func(*image.Creds)
		rlimits    func(*image.Rlimits)
	}{
		{"raised capabilities", "task 1: permitted capabilities 0x000001ffffffffff goes beyond the bundle's spec's 0x0000000000000420 (CAP_KILL,CAP_NET_BIND_SERVICE)",
			func(c *image.Creds) { c.CapPrm, c.CapEff = 1<<41-1, 1<<41-1 }, nil},
		{"uid 0", "task 1: uids (real/effective/saved/fs) 0/0/0/0 goes beyond the bundle's spec's 1000",
			func(c *image.Creds) { c.Uid, c.Euid, c.Suid, c.Fsuid = 0, 0, 0, 0 }, nil},
		{"no_new_privs off", "task 1: no_new_privs 0 goes beyond the bundle's spec's 1",
			func(c *image.Creds) { c.NoNewPrivs = 0 }, nil},
		{"rlimits above the spec", "task 1: RLIMIT_NOFILE hard limit 4096 goes beyond the bundle's spec's 1024",
			nil, func(r *image.Rlimits) { r.Limits[unix.RLIMIT_NOFILE] = image.Rlimit{Cur: 4096, Max: 4096} }},
	} {
		t.Run(c.name, func(t *testing.T) {
			cr, rl := legitCreds(), legitRlimits(t)
			if c.creds != nil {
				c.creds(cr)
			}
			if c.rlimits != nil {
				c.rlimits(rl)
			}
			path := hostileImage(t, t.TempDir(), cr, rl)
			check := func(how string, err error) {
				t.Helper()
				if !errors.Is(err, ErrPrivilege) || !strings.Contains(err.Error(), c.want) {
					t.Errorf("%s: %v, want an error saying %q", how, err, c.want)
				}
			}
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			check("CheckPrivileges", CheckPrivileges(f, g))

			// Into a container: the runtime is never asked to start the
			// stub.
			started := false
			adopt := &Adopt{Start: func([]*os.File) (int, error) { started = true; return 0, errors.New("no") }}
			_, err = Restore(context.Background(), f, Options{Adopt: adopt, Grant: g})
			check("restore into a container", err)
			if started {
				t.Errorf("the container's init was started")
			}

			// As a stream: refused before any task is made too.
			b, _ := os.ReadFile(path)
			_, err = Restore(context.Background(), bytes.NewReader(b), Options{Adopt: adopt, Grant: g})
			check("restore from a stream", err)
			if started {
				t.Errorf("the container's init was started")
			}
			if kids := children(t); kids != "" {
				t.Errorf("tasks left: %s", kids)
			}
		})
	}
	// The same image as granted passes the check (it is refused later,
	// being no complete process, but not for its privileges).
	f, err := os.Open(hostileImage(t, t.TempDir(), legitCreds(), legitRlimits(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := CheckPrivileges(f, g); err != nil {
		t.Errorf("the image as granted: %v", err)
	}
}

func TestLabelsMatch(t *testing.T) {
	g := &Grant{AppArmorProfile: "ckpt-test"}
	if err := labelsMatch("ckpt-test (enforce)", "", g); err != nil {
		t.Error(err)
	}
	for _, got := range []string{"unconfined", "ckpt-test-other (enforce)", ""} {
		if err := labelsMatch(got, "", g); err == nil {
			t.Errorf("AppArmor %q accepted for profile ckpt-test", got)
		}
	}
	g = &Grant{SelinuxLabel: "system_u:system_r:container_t:s0:c1,c2"}
	if err := labelsMatch("", g.SelinuxLabel, g); err != nil {
		t.Error(err)
	}
	if err := labelsMatch("", "unconfined_u:unconfined_r:unconfined_t:s0", g); err == nil {
		t.Error("another SELinux context accepted")
	}
}

// TestCredsDiff: the read-back comparison sees a difference in any field,
// and none in the order of groups (setgroups(2) sorts them).
func TestCredsDiff(t *testing.T) {
	want := legitCreds()
	want.Groups = []uint32{27, 4}
	got := *want
	got.Groups = []uint32{4, 27}
	if d := credsDiff(&got, want); d != "" {
		t.Errorf("groups in another order: %s", d)
	}
	for field, edit := range map[string]func(*image.Creds){
		"uids":         func(c *image.Creds) { c.Fsuid = 0 },
		"gids":         func(c *image.Creds) { c.Sgid = 0 },
		"groups":       func(c *image.Creds) { c.Groups = []uint32{27} },
		"bounding":     func(c *image.Creds) { c.CapBnd |= 1 },
		"permitted":    func(c *image.Creds) { c.CapPrm |= 1 },
		"effective":    func(c *image.Creds) { c.CapEff = 0 },
		"inheritable":  func(c *image.Creds) { c.CapInh = capKill },
		"ambient":      func(c *image.Creds) { c.CapAmb = capKill },
		"no_new_privs": func(c *image.Creds) { c.NoNewPrivs = 0 },
	} {
		got := *want
		edit(&got)
		if d := credsDiff(&got, want); !strings.HasPrefix(d, field) {
			t.Errorf("%s changed: diff %q", field, d)
		}
	}
	g := &Grant{NoNewPrivs: true}
	c := legitCreds()
	c.NoNewPrivs = 0
	if w := wantCreds(c, g); w.NoNewPrivs != 1 || c.NoNewPrivs != 0 {
		t.Errorf("no_new_privs not forced by the grant: %+v", w)
	}
}
