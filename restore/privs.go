package restore

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/moby/sys/capability"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/proc"
)

// Privileges come from whoever restores, never from the image: the bundle's
// spec for a container, the caller's own credentials for a process. A Grant
// is that ceiling, and every task's CREDS, RLIMITS and SCHED must lie within
// it before anything is created (docs/security.md states the rule; this file
// is its code):
//
//   - Capabilities: bounding ⊆ Grant.CapBnd, permitted ⊆ CapPrm, effective ⊆
//     CapPrm, inheritable ⊆ CapInh, ambient ⊆ CapPrm ∩ CapInh. The ceilings
//     are what a process started from the spec (or the caller) can reach by
//     itself: capset(2) only ever lowers the permitted set and raises the
//     inheritable set within the bounding set (with CAP_SETPCAP) or the
//     permitted set (without); the bounding set only shrinks.
//   - uids: each of real, effective, saved and fs uid is one of Grant.Uids,
//     unless CapPrm holds CAP_SETUID. gids and supplementary groups likewise
//     (Gids, Groups) unless it holds CAP_SETGID. Without those capabilities
//     setresuid(2) and friends only move between ids the process already
//     has, and setgroups(2) is refused.
//   - securebits: only SECBIT_KEEP_CAPS, which any process may set, unless
//     CapPrm holds CAP_SETPCAP.
//   - no_new_privs: set when Grant.NoNewPrivs (it can never be cleared).
//   - rlimits: soft ≤ hard, and hard ≤ Grant.Rlimits[resource] unless CapPrm
//     holds CAP_SYS_RESOURCE.
//   - scheduling: without CAP_SYS_NICE, no SCHED_DEADLINE, a real-time
//     priority no higher than the task's own RLIMIT_RTPRIO, and a nice value
//     no lower than Grant.Nice or than RLIMIT_NICE allows (sched_setattr(2)).
//
// What a process could gain only by executing a set-user-ID or
// file-capability program is not granted: an image of such a process is
// refused unless the bundle grants those privileges itself.

// Grant is the most privilege a restore may give any task of an image.
type Grant struct {
	// From says whose grant it is, in errors: "the bundle's spec", "the
	// caller".
	From string
	// Uids and Gids are the ids a task's real, effective, saved and fs
	// ids may take, Groups the supplementary groups it may have.
	Uids, Gids, Groups []uint32
	// CapBnd, CapPrm and CapInh are the most a task's bounding, permitted
	// (and effective) and inheritable sets may hold.
	CapBnd, CapPrm, CapInh uint64
	// NoNewPrivs: every task must have no_new_privs; the restore sets it
	// whatever the image says.
	NoNewPrivs bool
	// Rlimits is the highest hard limit of each resource, by RLIMIT_*
	// number; a resource past its end has no ceiling.
	Rlimits []uint64
	// Nice is the lowest nice value a task may have without CAP_SYS_NICE
	// (besides what its RLIMIT_NICE allows).
	Nice int32
	// Seccomp: the tasks start under a seccomp filter (the spec's profile,
	// or the caller's own filters) beneath the image's: after restore every
	// thread is in filter mode, and strict mode cannot be restored.
	Seccomp bool
	// AppArmorProfile and SelinuxLabel are the LSM labels the tasks run
	// with: the spec's, applied by the runtime to the stub every task is
	// made from; empty when there are none.
	AppArmorProfile, SelinuxLabel string
}

func (g *Grant) may(c capability.Cap) bool { return g.CapPrm&(1<<uint(c)) != 0 }

// inhCeiling is the most the inheritable set can become from (inh, prm, bnd)
// by capset(2): security/commoncap.c cap_capset() allows a new inheritable
// set within the old one and the bounding set, and, without CAP_SETPCAP,
// within the old inheritable and permitted sets.
func inhCeiling(inh, prm, bnd uint64) uint64 {
	if prm&(1<<uint(capability.CAP_SETPCAP)) != 0 {
		return inh | bnd
	}
	return inh | (prm & bnd)
}

// CallerGrant is the grant of a process restore: this process's own
// credentials, which the stub (and so every task) starts with.
func CallerGrant() (*Grant, error) {
	st, err := proc.ReadStatus(os.Getpid())
	if err != nil {
		return nil, fmt.Errorf("read own credentials: %w", err)
	}
	g := &Grant{
		From:       "the caller",
		Uids:       uniq(st.Uid[:]),
		Gids:       uniq(st.Gid[:]),
		Groups:     slices.Clone(st.Groups),
		CapBnd:     st.CapBnd,
		CapPrm:     st.CapPrm,
		CapInh:     inhCeiling(st.CapInh, st.CapPrm, st.CapBnd),
		NoNewPrivs: st.NoNewPrivs != 0,
		Seccomp:    st.Seccomp != 0,
	}
	for res := 0; res < image.NRlimits; res++ {
		var l unix.Rlimit
		if err := unix.Getrlimit(res, &l); err != nil {
			return nil, fmt.Errorf("getrlimit(%d): %w", res, err)
		}
		g.Rlimits = append(g.Rlimits, l.Max)
	}
	// The raw getpriority(2) returns 20 - nice.
	prio, err := unix.Getpriority(unix.PRIO_PROCESS, 0)
	if err != nil {
		return nil, fmt.Errorf("getpriority: %w", err)
	}
	g.Nice = int32(20 - prio)
	return g, nil
}

// SpecGrant is the grant of a container restore: what the spec gives the
// container's process. What the spec leaves out (rlimits it does not set,
// the nice value) the process inherits from the runtime, the caller.
func SpecGrant(spec *specs.Spec) (*Grant, error) {
	caller, err := CallerGrant()
	if err != nil {
		return nil, err
	}
	p := spec.Process
	if p == nil {
		return nil, fmt.Errorf("the spec has no process")
	}
	g := &Grant{From: "the bundle's spec", NoNewPrivs: p.NoNewPrivileges, Rlimits: caller.Rlimits, Nice: caller.Nice,
		AppArmorProfile: p.ApparmorProfile, SelinuxLabel: p.SelinuxLabel}
	var uidMap, gidMap []specs.LinuxIDMapping
	if l := spec.Linux; l != nil {
		g.Seccomp = l.Seccomp != nil
		for _, ns := range l.Namespaces {
			if ns.Type == specs.UserNamespace {
				uidMap, gidMap = l.UIDMappings, l.GIDMappings
				if uidMap == nil {
					uidMap = []specs.LinuxIDMapping{}
				}
				if gidMap == nil {
					gidMap = []specs.LinuxIDMapping{}
				}
			}
		}
	}
	// The image holds ids as the host sees them.
	id := func(m []specs.LinuxIDMapping, v uint32, what string) (uint32, error) {
		if m == nil {
			return v, nil
		}
		for _, e := range m {
			if v >= e.ContainerID && v-e.ContainerID < e.Size {
				return e.HostID + (v - e.ContainerID), nil
			}
		}
		return 0, fmt.Errorf("the spec's %s %d is not mapped in its user namespace", what, v)
	}
	uid, err := id(uidMap, p.User.UID, "uid")
	if err != nil {
		return nil, err
	}
	gid, err := id(gidMap, p.User.GID, "gid")
	if err != nil {
		return nil, err
	}
	g.Uids, g.Gids = []uint32{uid}, []uint32{gid}
	for _, a := range p.User.AdditionalGids {
		h, err := id(gidMap, a, "additional gid")
		if err != nil {
			return nil, err
		}
		g.Groups = append(g.Groups, h)
	}
	// Without a capabilities section libcontainer leaves the process the
	// runtime's own (keep-caps holds the permitted set across the change
	// of uid).
	bnd, prm, inh := caller.CapBnd, caller.CapPrm, caller.CapInh
	if c := p.Capabilities; c != nil {
		bnd = capMask(c.Bounding)
		// The kernel keeps effective and ambient within permitted; a spec
		// that lists more than permitted there gets no more than that.
		prm = capMask(c.Permitted) | capMask(c.Effective) | capMask(c.Ambient)
		inh = capMask(c.Inheritable)
	}
	// A process whose real or effective uid is 0 gains the whole bounding
	// set at its next execve(2) (security/commoncap.c
	// handle_privileged_root()), and the runtime execs the container's
	// process: unless no_new_privs caps that (cap_bprm_creds_from_file()
	// keeps such a process within its old permitted set), the bounding set
	// is its ceiling.
	if !p.NoNewPrivileges && (uid == 0 || prm&(1<<uint(capability.CAP_SETUID)) != 0) {
		prm |= bnd | inh
	}
	g.CapBnd, g.CapPrm, g.CapInh = bnd, prm, inhCeiling(inh, prm, bnd)
	for _, rl := range p.Rlimits {
		res, ok := rlimitByName[rl.Type]
		if !ok {
			return nil, fmt.Errorf("the spec's rlimit %q is unknown", rl.Type)
		}
		g.Rlimits = slices.Clone(g.Rlimits)
		g.Rlimits[res] = rl.Hard
	}
	if s := p.Scheduler; s != nil && s.Nice < g.Nice {
		g.Nice = s.Nice
	}
	return g, nil
}

// rlimitByName maps the spec's rlimit names to their numbers.
var rlimitByName = map[string]int{
	"RLIMIT_CPU": unix.RLIMIT_CPU, "RLIMIT_FSIZE": unix.RLIMIT_FSIZE, "RLIMIT_DATA": unix.RLIMIT_DATA,
	"RLIMIT_STACK": unix.RLIMIT_STACK, "RLIMIT_CORE": unix.RLIMIT_CORE, "RLIMIT_RSS": unix.RLIMIT_RSS,
	"RLIMIT_NPROC": unix.RLIMIT_NPROC, "RLIMIT_NOFILE": unix.RLIMIT_NOFILE, "RLIMIT_MEMLOCK": unix.RLIMIT_MEMLOCK,
	"RLIMIT_AS": unix.RLIMIT_AS, "RLIMIT_LOCKS": unix.RLIMIT_LOCKS, "RLIMIT_SIGPENDING": unix.RLIMIT_SIGPENDING,
	"RLIMIT_MSGQUEUE": unix.RLIMIT_MSGQUEUE, "RLIMIT_NICE": unix.RLIMIT_NICE, "RLIMIT_RTPRIO": unix.RLIMIT_RTPRIO,
	"RLIMIT_RTTIME": unix.RLIMIT_RTTIME,
}

// capMask turns capability names (CAP_KILL) into a mask. Names this kernel
// does not know grant nothing, as libcontainer skips them.
func capMask(names []string) uint64 {
	var m uint64
	for _, n := range names {
		if c, ok := capByName[strings.ToUpper(n)]; ok {
			m |= 1 << uint(c)
		}
	}
	return m
}

var capByName, capName = func() (map[string]capability.Cap, map[int]string) {
	m, n := map[string]capability.Cap{}, map[int]string{}
	for _, c := range capability.ListKnown() {
		m["CAP_"+strings.ToUpper(c.String())] = c
		n[int(c)] = "CAP_" + strings.ToUpper(c.String())
	}
	return m, n
}()

// capNames lists the capabilities of a mask by name; bits no capability
// has are shown as numbers.
func capNames(m uint64) string {
	var names []string
	for b := 0; b < 64; b++ {
		if m&(1<<uint(b)) == 0 {
			continue
		}
		if n, ok := capName[b]; ok {
			names = append(names, n)
		} else {
			names = append(names, fmt.Sprintf("cap%d", b))
		}
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ",")
}

func uniq(v []uint32) []uint32 {
	s := slices.Clone(v)
	slices.Sort(s)
	return slices.Compact(s)
}

// PrivilegeError is an image asking a task to have more privilege than its
// grant: it names the task, the field and both values.
type PrivilegeError struct {
	Pid   int32  // the task, as in the image
	Field string // "permitted capabilities", "uid", "RLIMIT_NOFILE hard limit"...
	Image string // what the image asks for
	Grant string // the ceiling
	From  string // whose ceiling
	Why   string // what is beyond, or why the ceiling holds
}

func (e *PrivilegeError) Error() string {
	s := fmt.Sprintf("task %d: %s %s goes beyond %s's %s", e.Pid, e.Field, e.Image, e.From, e.Grant)
	if e.Why != "" {
		s += " (" + e.Why + ")"
	}
	return s
}

// ErrPrivilege is wrapped by every PrivilegeError.
var ErrPrivilege = errors.New("the image asks for more privilege than it is granted")

func (e *PrivilegeError) Unwrap() error { return ErrPrivilege }

// checkCreds returns what in c goes beyond g, one error per field.
func (g *Grant) checkCreds(pid int32, c *image.Creds) error {
	var errs []error
	bad := func(field, img, grant, why string) {
		errs = append(errs, &PrivilegeError{Pid: pid, Field: field, Image: img, Grant: grant, From: g.From, Why: why})
	}
	caps := func(field string, have, most uint64) {
		if extra := have &^ most; extra != 0 {
			bad(field, fmt.Sprintf("%#016x", have), fmt.Sprintf("%#016x (%s)", most, capNames(most)), capNames(extra)+" not granted")
		}
	}
	caps("bounding capabilities", c.CapBnd, g.CapBnd)
	caps("permitted capabilities", c.CapPrm, g.CapPrm)
	caps("effective capabilities", c.CapEff, g.CapPrm)
	caps("inheritable capabilities", c.CapInh, g.CapInh)
	caps("ambient capabilities", c.CapAmb, g.CapPrm&g.CapInh)
	ids := func(field string, have []uint32, most []uint32, c capability.Cap) {
		if g.may(c) {
			return
		}
		for _, v := range have {
			if !slices.Contains(most, v) {
				bad(field, joinIDs(have), joinIDs(most), "without CAP_"+strings.ToUpper(c.String()))
				return
			}
		}
	}
	ids("uids (real/effective/saved/fs)", []uint32{c.Uid, c.Euid, c.Suid, c.Fsuid}, g.Uids, capability.CAP_SETUID)
	ids("gids (real/effective/saved/fs)", []uint32{c.Gid, c.Egid, c.Sgid, c.Fsgid}, g.Gids, capability.CAP_SETGID)
	ids("supplementary groups", c.Groups, g.Groups, capability.CAP_SETGID)
	if !g.may(capability.CAP_SETPCAP) && c.Securebits&^secbitKeepCaps != 0 {
		bad("securebits", fmt.Sprintf("%#x", c.Securebits), fmt.Sprintf("%#x", secbitKeepCaps), "without CAP_SETPCAP")
	}
	if g.NoNewPrivs && c.NoNewPrivs == 0 {
		bad("no_new_privs", "0", "1", "")
	}
	return errors.Join(errs...)
}

func joinIDs(v []uint32) string {
	if len(v) == 0 {
		return "none"
	}
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, "/")
}

// checkRlimits refuses a limit the task could not have set itself.
func (g *Grant) checkRlimits(pid int32, r *image.Rlimits) error {
	if len(r.Limits) != image.NRlimits {
		// A limit left out would stay the restorer's own.
		return badImage("task %d: RLIMITS holds %d limits, want %d", pid, len(r.Limits), image.NRlimits)
	}
	var errs []error
	for res, l := range r.Limits {
		name := rlimitName(res)
		if l.Cur > l.Max {
			errs = append(errs, badImage("task %d: %s soft limit %d is above its hard limit %d", pid, name, l.Cur, l.Max))
			continue
		}
		if g.may(capability.CAP_SYS_RESOURCE) || res >= len(g.Rlimits) || l.Max <= g.Rlimits[res] {
			continue
		}
		errs = append(errs, &PrivilegeError{Pid: pid, Field: name + " hard limit", Image: fmtLimit(l.Max),
			Grant: fmtLimit(g.Rlimits[res]), From: g.From, Why: "without CAP_SYS_RESOURCE"})
	}
	return errors.Join(errs...)
}

func rlimitName(res int) string {
	for n, r := range rlimitByName {
		if r == res {
			return n
		}
	}
	return fmt.Sprintf("rlimit %d", res)
}

func fmtLimit(v uint64) string {
	if v == unix.RLIM_INFINITY {
		return "unlimited"
	}
	return fmt.Sprint(v)
}

// Scheduling policies (include/uapi/linux/sched.h).
const (
	schedFIFO     = 1
	schedRR       = 2
	schedDeadline = 6
)

// checkSched refuses a scheduling the thread could not have chosen itself:
// without CAP_SYS_NICE, sched_setattr(2) allows a real-time priority up to
// RLIMIT_RTPRIO and a nice value down to 20 - RLIMIT_NICE
// (kernel/sched/syscalls.c: __sched_setscheduler(), can_nice()).
func (g *Grant) checkSched(pid int32, s *image.Sched, r *image.Rlimits) error {
	if g.may(capability.CAP_SYS_NICE) {
		return nil
	}
	lim := func(res int) uint64 {
		if r == nil || res >= len(r.Limits) {
			return 0
		}
		return r.Limits[res].Cur
	}
	bad := func(field, img, grant string) error {
		return &PrivilegeError{Pid: pid, Field: fmt.Sprintf("thread %d %s", s.Tid, field), Image: img, Grant: grant,
			From: g.From, Why: "without CAP_SYS_NICE"}
	}
	switch s.Policy {
	case schedDeadline:
		return bad("scheduling policy", "SCHED_DEADLINE", "no SCHED_DEADLINE")
	case schedFIFO, schedRR:
		if rt := lim(unix.RLIMIT_RTPRIO); uint64(s.Priority) > rt {
			return bad("real-time priority", fmt.Sprint(s.Priority), fmt.Sprintf("%d (its RLIMIT_RTPRIO)", rt))
		}
	}
	floor := g.Nice
	if n := lim(unix.RLIMIT_NICE); n <= 40 && 20-int32(n) < floor {
		floor = 20 - int32(n)
	}
	if s.Nice < floor {
		return bad("nice value", fmt.Sprint(s.Nice), fmt.Sprintf("%d at the lowest", floor))
	}
	return nil
}

// privScan follows an image's records and checks each task's credentials,
// limits and scheduling as they come.
type privScan struct {
	g       *Grant
	pid     int32 // the task whose section is being read, 0 before any
	creds   bool  // it had a CREDS record
	rlimits *image.Rlimits
}

func (s *privScan) take(rec image.Record) error {
	switch x := rec.(type) {
	case *image.Task:
		if err := s.endTask(); err != nil {
			return err
		}
		s.pid, s.creds, s.rlimits = x.Pid, false, nil
	case *image.Creds:
		s.creds = true
		return s.g.checkCreds(s.pid, x)
	case *image.Rlimits:
		s.rlimits = x
		return s.g.checkRlimits(s.pid, x)
	case *image.Sched:
		return s.g.checkSched(s.pid, x, s.rlimits)
	case *image.Seccomp:
		if s.g.Seccomp && x.Mode == image.SeccompModeStrict {
			return fmt.Errorf("task %d: thread %d is in seccomp strict mode, which cannot go on top of %s's seccomp filter", s.pid, x.Tid, s.g.From)
		}
	case *image.RawSk, *image.PacketSk:
		// The stub that makes the socket has the restorer's
		// capabilities; the task must not get one it could not make:
		// net/ipv4/af_inet.c inet_create and net/packet/af_packet.c
		// packet_create ask for CAP_NET_RAW in the network namespace.
		if !s.g.may(capability.CAP_NET_RAW) {
			return &PrivilegeError{Pid: s.pid, Field: "socket", Image: rec.Type().String(),
				Grant: fmt.Sprintf("%#016x (%s)", s.g.CapPrm, capNames(s.g.CapPrm)), From: s.g.From,
				Why: "raw and packet sockets need CAP_NET_RAW, not granted"}
		}
	case *image.Tail:
		return s.endTask()
	}
	return nil
}

// endTask: a task without CREDS would keep the restorer's own.
func (s *privScan) endTask() error {
	if s.pid != 0 && !s.creds {
		return badImage("task %d has no CREDS record", s.pid)
	}
	return nil
}

// CheckPrivileges reads the image in r (from its start) and refuses it if
// any task would get more privilege than g grants. It reads records only,
// seeking over page data, and creates nothing: a runtime calls it before
// it makes the container; Restore calls it again before the first task.
func CheckPrivileges(r io.ReadSeeker, g *Grant) (err error) {
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return err
	}
	defer func() {
		if _, serr := r.Seek(0, io.SeekStart); err == nil {
			err = serr
		}
	}()
	rd := image.NewReader(r, image.Options{NoDigest: true})
	s := &privScan{g: g}
	for {
		rec, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if err := s.take(rec); err != nil {
			return err
		}
	}
	return nil
}
