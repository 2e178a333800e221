package image

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"reflect"
	"strings"
	"testing"
)

func fill[T any](n int, v T) []T {
	s := make([]T, n)
	for i := range s {
		s[i] = v
	}
	return s
}

func maxRegs() (r [UserRegsWords]uint64) {
	for i := range r {
		r[i] = math.MaxUint64 - uint64(i)
	}
	return r
}

var (
	longString = strings.Repeat("/very/long/path", 4000) // 60000 bytes
	maxItimer  = Itimer{math.MaxInt64, math.MinInt64, -1, 1}
	fullSig    = Siginfo(bytes.Repeat([]byte{0xff}, SiginfoLen))
	u32max     = uint32(math.MaxUint32)
	u64max     = uint64(math.MaxUint64)
)

// roundTripCases holds boundary values for every record type: zero
// values, extremes of every integer, empty and long strings and slices.
var roundTripCases = []struct {
	name string
	rec  Record
}{
	{"header/new", NewHeader()},
	{"header/empty-strings", &Header{Magic: MagicHead, Major: VersionMajor, Arch: ArchAMD64, PageShift: PageShift}},
	{"header/extremes", &Header{Magic: MagicHead, Major: VersionMajor, Minor: math.MaxUint16, Arch: ArchAMD64, PageShift: PageShift,
		TimeNs: math.MinInt64, XFeatures: u64max, Consts: KernelConsts{math.MaxUint16, 1, 2, 3, 4, 5, u32max},
		Release: longString, Version: "\x00é", Machine: "x86_64", Hostname: longString[:255]}},
	{"tail", &Tail{Magic: MagicTail, Records: u64max, Bytes: 0, Digest: 0x0123456789abcdef}},
	{"error/empty", &Error{}},
	{"error/long", &Error{Pid: math.MinInt32, Errno: math.MaxInt32, Message: longString}},
	{"task/zero", &Task{}},
	{"task/extremes", &Task{Pid: math.MaxInt32, PPid: math.MinInt32, Pgid: -1, Sid: 1, Flags: u32max, State: TaskZombie,
		ExitCode: math.MinInt32, NrThreads: u32max, Comm: comm("0123456789abcdef")}},
	{"task_objs/none", &TaskObjs{}},
	{"task_objs/max", &TaskObjs{Mm: u32max, Files: 1, Fs: u32max - 1, Sighand: 2}},
	{"creds/zero", &Creds{}},
	{"creds/extremes", &Creds{Uid: u32max, Euid: 0, Suid: 1, Fsuid: u32max, Gid: u32max, Egid: 2, Sgid: 3, Fsgid: u32max,
		CapInh: u64max, CapPrm: 1, CapEff: 1 << 63, CapBnd: u64max, CapAmb: 7, Securebits: u32max, NoNewPrivs: 1,
		Groups: fill(65536, u32max)}},
	{"task_misc/extremes", &TaskMisc{Personality: u32max, Umask: 0o777, PdeathSig: 64, Dumpable: 2,
		Itimers: [3]Itimer{maxItimer, {}, maxItimer}}},
	{"task_proc/zero", &TaskProc{}},
	{"task_proc/extremes", &TaskProc{OomScoreAdj: -1000, LoginUid: u32max, Flags: u32max, Membarrier: u32max,
		CoredumpFilter: u32max, IoPrio: 1, TimerSlackNs: u64max}},
	{"exit_signals/empty", &ExitSignals{}},
	{"exit_signals/some", &ExitSignals{Tasks: []TaskExitSignal{{Pid: 2, Signal: 0}, {Pid: -1, Signal: u32max}}}},
	{"cgroup_dir/min", &CgroupDir{}},
	{"cgroup_dir/some", &CgroupDir{ID: u32max, Flags: 1, Controllers: "cpu,cpuacct", Path: "a/b"}},
	{"cgroup_prop/some", &CgroupProp{Dir: 1, Name: "pids.max", Value: "max"}},
	{"cgroup_member/empty", &CgroupMember{}},
	{"cgroup_member/some", &CgroupMember{Tid: -1, Flags: u32max, Dirs: []uint32{1, u32max}}},
	{"rlimits/empty", &Rlimits{}},
	{"rlimits/full", &Rlimits{Limits: fill(NRlimits, Rlimit{Cur: u64max, Max: 0})}},
	{"sighand/min", &Sighand{Objref: 1}},
	{"sighand/full", &Sighand{Objref: u32max, Actions: fill(NSig, Sigaction{u64max, 1, u64max, 1 << 63})}},
	{"sigpending/empty", &SigPending{Tid: -1}},
	{"sigpending/full", &SigPending{Tid: math.MaxInt32, Infos: fill(1000, fullSig)}},
	{"thread/zero", &Thread{}},
	{"thread/extremes", &Thread{Tid: math.MaxInt32, Flags: u32max, Regs: maxRegs(), Sigmask: u64max, TidAddress: u64max,
		RobustList: 1, RobustListLen: 24, RseqAddr: u64max, RseqLen: u32max, RseqSig: u32max, AltstackSp: u64max,
		AltstackSize: u64max, AltstackFlags: u32max, Reserved: u32max, Comm: comm("\xff\xff"),
		XState: bytes.Repeat([]byte{0xa5}, 100000)}},
	{"fs/empty", &Fs{Objref: 1}},
	{"fs/long", &Fs{Objref: u32max, Cwd: longString, Root: longString[:4095]}},
	{"files/zero", &Files{Objref: 1}},
	{"files/max", &Files{Objref: u32max, NrFds: u32max}},
	{"fd/min", &Fd{Fd: math.MinInt32}},
	{"fd/max", &Fd{Fd: math.MaxInt32, Flags: u32max, File: u32max}},
	{"reg_file/empty", &RegFile{Objref: 1}},
	{"reg_file/extremes", &RegFile{Objref: u32max, Flags: u32max, Pos: math.MinInt64, Mode: u32max, Reserved: u32max,
		Dev: u64max, Ino: u64max, Rdev: u64max, Size: math.MaxInt64, Path: longString}},
	{"ext_file/empty", &ExtFile{Objref: 1}},
	{"ext_file/extremes", &ExtFile{Objref: u32max, Flags: u32max, Kind: u32max, Reserved: u32max, Key: "pipe:[4294967295]"}},
	{"pstree/empty", &Pstree{}},
	{"shmem/empty", &Shmem{Objref: 1}},
	{"aio_ring/empty", &AioRing{}},
	{"fork_pages/empty", &ForkPages{}},
	{"fork_pages/runs", &ForkPages{Runs: []PageRun{{Vaddr: 0x1000, Pages: 1}, {Vaddr: math.MaxUint64 &^ 0xfff, Pages: u32max, Reserved: u32max}}}},
	{"aio_ring/events", &AioRing{Start: u64max, End: u64max, NrEvents: u32max, Head: u32max, Tail: 1, Reserved: u32max,
		Events: []AioEvent{{Data: 1, Obj: u64max, Res: -1, Res2: math.MinInt64}, {Res: math.MaxInt64}}}},
	{"shmem/extremes", &Shmem{Objref: u32max, Kind: u32max, Ino: u64max, Size: u64max, Seals: u32max, Reserved: u32max, Name: longString}},
	{"sched/empty", &Sched{}},
	{"uts/empty", &Uts{}},
	{"container/empty", &Container{}},
	{"container/full", &Container{ID: "c1", Bundle: "/b", ConfigDigest: "sha256:00", Rootfs: "/b/rootfs",
		RootfsDev: u64max, RootfsIno: 1, Hostname: longString, Mounts: "/proc\n/dev\n/tmp"}},
	{"uts/names", &Uts{Hostname: "h", Domainname: longString}},
	{"shares/empty", &Shares{}},
	{"stats/extremes", &Stats{FreezeNs: u64max, TotalNs: 1, Tasks: u32max, Threads: 2, Pages: u64max}},
	{"shares/many", &Shares{Tasks: fill(300, TaskShare{Pid: math.MaxInt32, Flags: u32max})}},
	{"posix_timers/empty", &PosixTimers{}},
	{"posix_timers/extremes", &PosixTimers{Timers: fill(1000, PosixTimer{ID: math.MaxInt32, Clock: math.MinInt32, Notify: -1, Signo: 64,
		Tid: math.MaxInt32, Flags: u32max, Sigval: u64max, IntervalNs: math.MaxInt64, RemainingNs: math.MinInt64, Overrun: -1, Reserved: u32max})}},
	{"seccomp_filter/min", &SeccompFilter{Objref: 1}},
	{"seccomp_filter/max", &SeccompFilter{Objref: u32max, Prev: u32max - 1, Flags: u32max, Prog: bytes.Repeat([]byte{0xa5}, 4096*8)}},
	{"seccomp/zero", &Seccomp{}},
	{"seccomp/extremes", &Seccomp{Tid: math.MinInt32, Mode: u32max, Filter: u32max}},
	{"ipc_shm/empty", &IpcShm{}},
	{"ipc_shm/extremes", &IpcShm{Id: math.MaxInt32, Key: -1, Mode: u32max, Uid: u32max, Gid: u32max, Cuid: u32max, Cgid: u32max, Reserved: u32max, Size: u64max}},
	{"ipc_sem/empty", &IpcSem{}},
	{"ipc_sem/extremes", &IpcSem{Id: math.MaxInt32, Key: math.MinInt32, Mode: u32max, Uid: u32max, Gid: u32max, Cuid: u32max, Cgid: u32max, Values: fill(32000, uint16(math.MaxUint16))}},
	{"ipc_msg/empty", &IpcMsg{}},
	{"ipc_msg/extremes", &IpcMsg{Id: math.MaxInt32, Key: -1, Mode: u32max, Uid: u32max, Gid: u32max, Cuid: u32max, Cgid: u32max, NrMsgs: u32max, Qbytes: u64max}},
	{"ipc_msg_data/empty", &IpcMsgData{}},
	{"ipc_msg_data/extremes", &IpcMsgData{Mtype: math.MinInt64, Data: bytes.Repeat([]byte{0x5a}, 65536)}},
	{"sem_undo/empty", &SemUndo{}},
	{"sem_undo/extremes", &SemUndo{SemId: -1, Adj: []int16{math.MinInt16, math.MaxInt16, 0, -1}}},
	{"netns/empty", &Netns{}},
	{"ipc_ns/empty", &IpcNs{}},
	{"ipc_ns/extremes", &IpcNs{ShmMax: u64max, ShmAll: u64max, ShmMni: u32max, ShmRmidForced: u32max, MsgMax: u32max, MsgMnb: u32max, MsgMni: u32max, SemMsl: u32max, SemMns: u32max, SemOpm: u32max, SemMni: u32max, Reserved: u32max}},
	{"netns/extremes", &Netns{LoFlags: u32max}},
	{"sched/extremes", &Sched{Tid: -1, Policy: u32max, Flags: u64max, Nice: -20, Priority: 99, Runtime: u64max, Deadline: 1, Period: 2, Affinity: fill(16, u64max)}},
	{"pstree/many", &Pstree{Tasks: fill(300, Task{Pid: math.MaxInt32, PPid: -1, Pgid: 7, Sid: 9, Flags: u32max, State: TaskZombie, ExitCode: -1, NrThreads: u32max, Comm: comm("x")})}},
	{"pipe/empty", &Pipe{Objref: 1}},
	{"pipe/extremes", &Pipe{Objref: u32max, Flags: u32max, PipeID: u32max, Capacity: u32max}},
	{"pipe_data/empty", &PipeData{}},
	{"pipe_data/full", &PipeData{PipeID: u32max, Data: bytes.Repeat([]byte{0xa5}, PipeDataChunk)}},
	{"fifo/empty", &Fifo{Objref: 1}},
	{"fifo/extremes", &Fifo{Objref: u32max, Flags: u32max, PipeID: u32max, Capacity: u32max, Dev: u64max, Ino: u64max, Path: longString}},
	{"memfd_file/empty", &MemfdFile{Objref: 1}},
	{"memfd_file/extremes", &MemfdFile{Objref: u32max, Flags: u32max, Pos: math.MaxInt64, Reserved: u32max}},
	{"timerfd/empty", &TimerFd{Objref: 1}},
	{"timerfd/extremes", &TimerFd{Objref: u32max, Flags: u32max, Clockid: u32max, SettimeFlags: u32max, Ticks: u64max,
		ValueSec: math.MaxInt64, ValueNsec: math.MinInt64, IntervalSec: -1, IntervalNsec: math.MaxInt64}},
	{"signalfd/empty", &SignalFd{Objref: 1}},
	{"signalfd/extremes", &SignalFd{Objref: u32max, Flags: u32max, Sigmask: u64max}},
	{"inotify/empty", &Inotify{Objref: 1}},
	{"inotify/extremes", &Inotify{Objref: u32max, Flags: u32max, NrWatches: u32max, Reserved: u32max}},
	{"inotify_watch/empty", &InotifyWatch{}},
	{"inotify_watch/extremes", &InotifyWatch{Wd: math.MinInt32, Mask: u32max, IgnoredMask: u32max, Reserved: u32max, Dev: u64max, Ino: u64max, Path: longString}},
	{"pidfd/empty", &PidFd{Objref: 1}},
	{"parent/empty", &Parent{}},
	{"parent/extremes", &Parent{Bytes: math.MaxUint64, Records: math.MaxUint64, Digest: math.MaxUint64, Path: "../pre-1/image.ckpt"}},
	{"parent_pages/empty", &ParentPages{}},
	{"parent_pages/runs", &ParentPages{Runs: []PageRun{{Vaddr: 0x1000, Pages: 1}, {Vaddr: math.MaxUint64 &^ 0xfff, Pages: u32max, Reserved: u32max}}}},
	{"dirty_track/empty", &DirtyTrack{}},
	{"dirty_track/extremes", &DirtyTrack{Fd: math.MaxInt32, Reserved: u32max, Ino: math.MaxUint64}},
	{"pidfd/extremes", &PidFd{Objref: u32max, Flags: u32max, Pid: math.MaxInt32, Reserved: u32max}},
	{"deleted_file/empty", &DeletedFile{Objref: 1}},
	{"deleted_file/extremes", &DeletedFile{Objref: u32max, Mode: u32max, Uid: u32max, Gid: u32max, Size: math.MinInt64, Dev: u64max, Ino: u64max, Path: longString}},
	{"deleted_data/empty", &DeletedData{}},
	{"deleted_data/extremes", &DeletedData{File: u32max, Reserved: u32max, Offset: math.MaxInt64, Data: bytes.Repeat([]byte{0xff}, DeletedDataChunk)}},
	{"deleted_open/empty", &DeletedOpen{Objref: 1}},
	{"deleted_open/extremes", &DeletedOpen{Objref: u32max, Flags: u32max, Pos: math.MinInt64, File: u32max - 1, Reserved: u32max}},
	{"file_lock/empty", &FileLock{}},
	{"file_lock/extremes", &FileLock{Fd: math.MaxInt32, Kind: u32max, Write: u32max, Reserved: u32max, Start: math.MaxInt64, Len: math.MinInt64}},
	{"file_owner/empty", &FileOwner{}},
	{"file_owner/extremes", &FileOwner{Fd: math.MinInt32, Flags: u32max, OwnerType: u32max, Pid: math.MaxInt32, Signal: u32max, Reserved: u32max}},
	{"unix_sk/empty", &UnixSk{Objref: 1}},
	{"unix_sk/extremes", &UnixSk{Objref: u32max, Flags: u32max, Ino: u32max, SockType: u32max, State: u32max, Peer: u32max, Backlog: u32max,
		Shutdown: u32max, Opts: u32max, PeerCred: math.MinInt32, RcvBuf: u32max, SndBuf: u32max, RcvTimeo: math.MaxInt64, SndTimeo: math.MinInt64,
		Mode: u32max, PeekOff: math.MinInt32, Name: bytes.Repeat([]byte{0xa5}, 108)}},
	{"unix_queue/empty", &UnixQueue{}},
	{"unix_queue/full", &UnixQueue{Ino: u32max, Flags: u32max, CredPid: -1, CredUid: u32max, CredGid: u32max, Reserved: u32max,
		Sender: bytes.Repeat([]byte{0}, 108), Fds: []uint32{1, u32max, 7}, Data: bytes.Repeat([]byte{0xa5}, UnixQueueChunk)}},
	{"tty/empty", &Tty{}},
	{"tty/extremes", &Tty{TtyID: u32max, Kind: u32max, Index: u32max, Flags: u32max, Sid: math.MinInt32, Pgrp: math.MaxInt32,
		Termios: Termios{Iflag: u32max, Oflag: 1, Cflag: u32max, Lflag: 2, Line: 0xff, Cc: [19]uint8{1, 18: 0xff}, Ispeed: u32max, Ospeed: 3},
		Rows:    0xffff, Cols: 1, Xpixel: 0xffff, Ypixel: 2, Reserved: u32max}},
	{"tty_data/empty", &TtyData{}},
	{"tty_data/full", &TtyData{TtyID: u32max, Dir: TtyDataOutput, Data: bytes.Repeat([]byte{0x5a}, TtyDataChunk)}},
	{"tty_file/empty", &TtyFile{Objref: 1}},
	{"tty_file/extremes", &TtyFile{Objref: u32max, Flags: u32max, TtyID: u32max, Side: u32max}},
	{"inet_socket/empty", &InetSocket{Objref: 1}},
	{"inet_socket/extremes", &InetSocket{Objref: u32max, Flags: u32max, Family: u32max, SockType: u32max, Protocol: u32max,
		State: u32max, Backlog: u32max, ScopeID: u32max, LocalPort: u32max, PeerPort: u32max,
		Local: [16]byte{0xff, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 0xff}, Peer: [16]byte{15: 0xff},
		SndBuf: u32max, RcvBuf: u32max, RcvTimeoNs: math.MaxInt64, SndTimeoNs: math.MinInt64, LingerOn: u32max, LingerSec: u32max,
		Opts: []SockOpt{{Level: u32max, Name: u32max, Value: math.MinInt32, Reserved: u32max}, {Level: 1, Name: 2, Value: 1}}}},
	{"tcp_stream/empty", &TcpStream{Socket: 1}},
	{"tcp_stream/extremes", &TcpStream{Socket: u32max, Options: u32max, SndSeq: u32max, RcvSeq: u32max, SendLen: u32max,
		Unsent: u32max, RecvLen: u32max, MSS: u32max, SndWscale: u32max, RcvWscale: u32max, Timestamp: u32max,
		SndWl1: u32max, SndWnd: u32max, MaxWindow: u32max, RcvWnd: u32max, RcvWup: u32max}},
	{"tcp_queue/empty", &TcpQueue{Socket: 1}},
	{"tcp_queue/extremes", &TcpQueue{Socket: u32max, Queue: u32max, Data: bytes.Repeat([]byte{0xa5}, 4099)}},
	{"tcp_syn_sent/zero", &TcpSynSent{Socket: 1}},
	{"tcp_syn_sent/extremes", &TcpSynSent{Socket: u32max, Seq: u32max}},
	{"eventfd/empty", &EventFd{Objref: 1}},
	{"eventfd/extremes", &EventFd{Objref: u32max, Flags: u32max, Count: u64max - 1, Semaphore: 1, Reserved: u32max}},
	{"epoll/empty", &Epoll{Objref: 1}},
	{"epoll/many", &Epoll{Objref: u32max, Flags: u32max, Targets: fill(1000, EpollTarget{Fd: math.MaxInt32, Events: u32max, Data: u64max})}},
	{"mm/empty", &Mm{Objref: 1}},
	{"mm/extremes", &Mm{Objref: u32max, NrVmas: u32max, StartCode: u64max, EndCode: 1, StartData: u64max, EndData: 2,
		StartBrk: u64max, Brk: 3, StartStack: u64max, ArgStart: 4, ArgEnd: u64max, EnvStart: 5, EnvEnd: u64max,
		ExeDev: u64max, ExeIno: u64max, ExePath: longString, Auxv: fill(AuxvMax, u64max)}},
	{"vma/zero", &Vma{}},
	{"vma/extremes", &Vma{Start: u64max, End: u64max, Pgoff: u64max, Prot: u32max, Flags: u32max, Kind: u32max,
		Reserved: u32max, Madv: u64max, Dev: u64max, Ino: u64max, Path: longString}},
	{"mount/empty", &Mount{}},
	{"mount/extremes", &Mount{ID: u32max, ParentID: u32max, Kind: u32max, Flags: u32max, Dev: u64max, Ino: u64max,
		MountPoint: longString, Root: "/", FsType: "tmpfs", Source: "x", SuperOpts: "rw,size=1k", BindFrom: longString}},
	{"tmpfs_file/empty", &TmpfsFile{}},
	{"tmpfs_file/extremes", &TmpfsFile{Mount: u32max, Mode: u32max, Uid: u32max, Gid: u32max, Flags: u32max, Nlink: u32max,
		Rdev: u64max, Size: math.MaxInt64, Atime: math.MinInt64, Mtime: math.MaxInt64, Path: longString, Link: longString}},
	{"tmpfs_data/empty", &TmpfsData{}},
	{"tmpfs_data/full", &TmpfsData{Mount: u32max, Offset: math.MaxInt64, Data: bytes.Repeat([]byte{0x5a}, TmpfsDataChunk)}},
	{"pages/extremes", &Pages{NrPages: u32max, Flags: u32max, Runs: fill(3, PageRun{Vaddr: u64max, Pages: u32max, Reserved: u32max})}},
}

func codecOf(t *testing.T, r Record) *recCodec {
	t.Helper()
	c := byGoType[reflect.TypeOf(r)]
	if c == nil {
		t.Fatalf("no codec for %T", r)
	}
	return c
}

// TestCodecRoundTrip encodes and decodes every case and compares values
// and bytes.
func TestCodecRoundTrip(t *testing.T) {
	seen := map[Type]bool{}
	for _, tc := range roundTripCases {
		t.Run(tc.name, func(t *testing.T) {
			c := codecOf(t, tc.rec)
			seen[c.typ] = true
			enc := c.encodePayload(nil, reflect.ValueOf(tc.rec).Elem())
			if want := c.root.encodedLen(reflect.ValueOf(tc.rec).Elem()); uint64(len(enc)) != want {
				t.Fatalf("encoded %d bytes, encodedLen says %d", len(enc), want)
			}
			got := byType[c.typ].new()
			trailing, msg := c.decodePayload(enc, reflect.ValueOf(got).Elem())
			if msg != "" || trailing != 0 {
				t.Fatalf("decode: %q, %d trailing bytes", msg, trailing)
			}
			if !reflect.DeepEqual(got, tc.rec) {
				t.Fatalf("round trip changed the record:\n got %+v\nwant %+v", got, tc.rec)
			}
			if again := c.encodePayload(nil, reflect.ValueOf(got).Elem()); !bytes.Equal(again, enc) {
				t.Fatal("re-encoding gives other bytes")
			}
			// Every proper prefix must fail to decode, never panic.
			for _, cut := range []int{0, 1, len(enc) / 2, len(enc) - 1} {
				if cut >= len(enc) || cut < 0 {
					continue
				}
				if _, msg := c.decodePayload(enc[:cut], reflect.ValueOf(byType[c.typ].new()).Elem()); msg == "" {
					t.Errorf("payload cut to %d of %d bytes decoded", cut, len(enc))
				}
			}
		})
	}
	for _, ti := range registry {
		if !seen[ti.typ] {
			t.Errorf("no round-trip case for %s", ti.name)
		}
	}
}

// TestCodecLayout pins the byte layout on a hand-computed example, so the
// codec cannot drift into, say, big-endian or implicit padding.
func TestCodecLayout(t *testing.T) {
	r := &Fd{Fd: -2, Flags: 1, File: 0x01020304}
	got := codecOf(t, r).encodePayload(nil, reflect.ValueOf(r).Elem())
	want := []byte{0xfe, 0xff, 0xff, 0xff, 1, 0, 0, 0, 4, 3, 2, 1}
	if !bytes.Equal(got, want) {
		t.Fatalf("FD payload % x, want % x", got, want)
	}
	s := &Rlimits{Limits: []Rlimit{{Cur: 1, Max: 2}}}
	got = codecOf(t, s).encodePayload(nil, reflect.ValueOf(s).Elem())
	want = []byte{1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0}
	if !bytes.Equal(got, want) {
		t.Fatalf("RLIMITS payload % x, want % x", got, want)
	}
	empty := codecOf(t, &Creds{}).encodePayload(nil, reflect.ValueOf(&Creds{Groups: []uint32{}}).Elem())
	if n := len(empty); n != 32+40+8+4 {
		t.Fatalf("CREDS with empty groups is %d bytes, want 84", n)
	}
}

// TestStreamRoundTrip writes every case (that Write accepts) into an image
// and reads it back.
func TestStreamRoundTrip(t *testing.T) {
	for _, tc := range roundTripCases {
		switch tc.rec.(type) {
		case *Tail, *Error, *Pages:
			continue // written by Close, Abort and WritePages; tested elsewhere
		}
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			w := NewWriter(&buf)
			hdr, isHdr := tc.rec.(*Header)
			if !isHdr {
				hdr = NewHeader()
			}
			if err := w.Write(hdr); err != nil {
				t.Fatal(err)
			}
			// Define whatever the case refers to.
			c := codecOf(t, tc.rec)
			v := reflect.ValueOf(tc.rec).Elem()
			for _, i := range c.refs {
				if ref := uint32(v.Field(i).Uint()); ref != 0 {
					if err := w.Write(&Fs{Objref: ref}); err != nil {
						t.Fatal(err)
					}
				}
			}
			if !isHdr {
				if err := w.Write(tc.rec); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if w.Offset() != int64(buf.Len()) || buf.Len()%recordAlign != 0 {
				t.Fatalf("Offset %d, stream %d bytes", w.Offset(), buf.Len())
			}
			recs, _, err := readAll(NewReader(bytes.NewReader(buf.Bytes()), Options{}))
			if err != nil {
				t.Fatal(err)
			}
			if got := recs[len(recs)-2]; !reflect.DeepEqual(got, tc.rec) {
				t.Fatalf("read back %+v\nwant %+v", got, tc.rec)
			}
		})
	}
}

// TestJSON checks every record type survives encoding/json, the form
// `ckpt inspect --json` prints. (Strings that are not valid UTF-8 do not:
// encoding/json replaces the bad bytes.)
func TestJSON(t *testing.T) {
	for _, tc := range roundTripCases {
		t.Run(tc.name, func(t *testing.T) {
			b, err := json.Marshal(tc.rec)
			if err != nil {
				t.Fatal(err)
			}
			got := byType[tc.rec.Type()].new()
			if err := json.Unmarshal(b, got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.rec) {
				t.Fatalf("JSON round trip changed the record: %.300s", b)
			}
		})
	}
	b, _ := json.Marshal(&Pages{Vaddr: 4096, NrPages: 1, DataOffset: 8192})
	if !strings.Contains(string(b), `"data_offset":8192`) || !strings.Contains(string(b), `"NrPages":1`) {
		t.Fatalf("PAGES JSON %s", b)
	}
}

// TestSampleRoundTrip reads the realistic image back record by record,
// with the page data.
func TestSampleRoundTrip(t *testing.T) {
	s := buildSample(t)
	r := NewReader(bytes.NewReader(s.bytes), Options{})
	for i, want := range s.recs {
		got, err := r.Next()
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if p, ok := got.(*Pages); ok {
			if p.DataOffset%PageSize != 0 || p.DataOffset <= r.RecordOffset() {
				t.Fatalf("PAGES at %d has data at %d", r.RecordOffset(), p.DataOffset)
			}
			data := make([]byte, int(p.NrPages)*PageSize)
			if err := r.ReadPageData(data); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(data, s.data[i]) || !bytes.Equal(s.bytes[p.DataOffset:p.DataOffset+int64(len(data))], data) {
				t.Fatalf("page data of record %d differs", i)
			}
			p.DataOffset = 0
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("record %d: got %+v\nwant %+v", i, got, want)
		}
	}
	tail, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	if tl := tail.(*Tail); tl.Records != uint64(len(s.recs)) || tl.Bytes != uint64(len(s.bytes)-40) {
		t.Fatalf("tail %+v for %d records, %d bytes", tl, len(s.recs), len(s.bytes))
	}
	if _, err := r.Next(); !errors.Is(err, io.EOF) {
		t.Fatalf("after TAIL: %v, want io.EOF", err)
	}
	if r.Header() == nil || r.Header().Release == "" || r.Offset() != int64(len(s.bytes)) {
		t.Fatalf("Header %+v, Offset %d of %d", r.Header(), r.Offset(), len(s.bytes))
	}
}
