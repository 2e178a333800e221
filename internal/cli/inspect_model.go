package cli

import (
	"bytes"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"net"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
)

// model is what `ckpt inspect` shows of an image: its records gathered by
// task, with the objects they name resolved. It is built in one pass
// through the image; memory is kept only where a view asks for it (a
// task's command line and environment, a memory search).
type model struct {
	Header    *image.Header    `json:"header,omitempty"`
	Container *image.Container `json:"container,omitempty"`
	Tasks     []*taskView      `json:"tasks"`
	Mounts    []*image.Mount   `json:"mounts,omitempty"`
	Stats     *image.Stats     `json:"stats,omitempty"`
	Uts       *image.Uts       `json:"uts,omitempty"`
	Records   uint64           `json:"records"`
	Bytes     int64            `json:"bytes"`
	Pages     uint64           `json:"pages"`

	byPid map[int32]*taskView
}

// taskView is one task with what it holds.
type taskView struct {
	Pid      int32       `json:"pid"`
	PPid     int32       `json:"ppid"`
	Pgid     int32       `json:"pgid"`
	Sid      int32       `json:"sid"`
	Comm     string      `json:"comm"`
	State    string      `json:"state"`
	Threads  uint32      `json:"threads"`
	Cwd      string      `json:"cwd,omitempty"`
	Root     string      `json:"root,omitempty"`
	Exe      string      `json:"exe,omitempty"`
	Cmdline  []string    `json:"cmdline,omitempty"`
	Env      []string    `json:"env,omitempty"`
	Fds      []fdView    `json:"fds,omitempty"`
	MemPages uint64      `json:"mem_pages"`
	Vmas     []image.Vma `json:"-"`

	mm, files uint32 // objrefs
	children  []*taskView
	// hashes of the address space's pages in the image, by address
	// (buildOpts.hashes).
	hashes []pageHash
}

// fdView is one fd of a task, its file rendered for people.
type fdView struct {
	Fd      int32     `json:"fd"`
	Kind    string    `json:"kind"`
	Name    string    `json:"name"`
	Flags   string    `json:"flags"`
	Mode    string    `json:"mode,omitempty"`
	Pos     int64     `json:"pos,omitempty"`
	Cloexec bool      `json:"cloexec,omitempty"`
	Socket  *sockView `json:"socket,omitempty"`
}

// sockView is a socket: protocol, state and addresses.
type sockView struct {
	Proto string `json:"proto"`
	State string `json:"state"`
	Local string `json:"local,omitempty"`
	Peer  string `json:"peer,omitempty"`
}

// memRegion is memory of an address space kept for the memory views.
type memRegion struct {
	Vaddr uint64
	Data  []byte
}

// buildOpts say what memory to keep while reading.
type buildOpts struct {
	cmdline bool // argv and environment of each task
	memPid  int32
	mem     bool          // every page of memPid's address space
	hashes  *maphash.Seed // a hash of every page of every address space, with this seed
}

// buildModel reads an image into a model; mem receives memPid's memory
// when asked for.
func buildModel(r io.Reader, o buildOpts) (*model, []memRegion, error) {
	rd := image.NewReader(r, image.Options{})
	m := &model{byPid: map[int32]*taskView{}}
	objs := map[uint32]image.Record{}
	fdsOf := map[uint32][]image.Fd{}
	mmPages := map[uint32]uint64{}
	// Memory kept, by MM objref.
	mmMem := map[uint32][]memRegion{}
	var mms = map[uint32]*image.Mm{}
	var cur *taskView
	var curFiles, curMm uint32
	// memOf: the tasks whose whole memory is kept: memPid, and its
	// ancestors, whose pages its FORK_PAGES may name.
	memOf := map[int32]bool{}
	mmHashes := map[uint32][]pageHash{}
	mmVmas := map[uint32][]image.Vma{}
	for {
		rec, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return m, nil, err
		}
		m.Records++
		if ref, ok := objrefOf(rec); ok {
			objs[ref] = rec
		}
		switch x := rec.(type) {
		case *image.Header:
			m.Header = x
		case *image.Container:
			m.Container = x
		case *image.Pstree:
			m.addTasks(x)
			if o.mem {
				memOf = ancestry(x, o.memPid)
			}
		case *image.Task:
			cur = m.byPid[x.Pid]
			curMm = 0
		case *image.Uts:
			m.Uts = x
		case *image.Mount:
			m.Mounts = append(m.Mounts, x)
		case *image.Files:
			curFiles = x.Objref
		case *image.Fd:
			fdsOf[curFiles] = append(fdsOf[curFiles], *x)
		case *image.Fs:
			if cur != nil {
				cur.Cwd, cur.Root = x.Cwd, x.Root
			}
		case *image.Mm:
			curMm = x.Objref
			mms[x.Objref] = x
		case *image.Vma:
			mmVmas[curMm] = append(mmVmas[curMm], *x)
		case *image.Shmem:
			curMm = 0 // its pages are the object's, not an address space's
		case *image.Pages:
			m.Pages += uint64(x.NrPages)
			if curMm == 0 {
				break
			}
			mmPages[curMm] += uint64(x.NrPages)
			sink := pageSink{
				keepAll: o.mem && cur != nil && memOf[cur.Pid],
				kept:    func(r memRegion) { mmMem[curMm] = append(mmMem[curMm], r) },
				hash:    o.hashes,
				hashed:  func(h pageHash) { mmHashes[curMm] = append(mmHashes[curMm], h) },
			}
			if mm := mms[curMm]; o.cmdline && mm != nil && !sink.keepAll {
				// Command lines and environments only: the pages holding them.
				sink.keep = func(va uint64) bool {
					return overlaps(va, image.PageSize, mm.ArgStart, mm.ArgEnd) || overlaps(va, image.PageSize, mm.EnvStart, mm.EnvEnd)
				}
			}
			if err := readPages(rd, x, sink); err != nil {
				return m, nil, err
			}
		case *image.ForkPages:
			if cur != nil && curMm != 0 {
				parent := m.byPid[cur.PPid]
				mmPages[curMm] += forkRegions(mmMem, parent, curMm, x.Runs)
				if parent != nil {
					mmHashes[curMm] = append(mmHashes[curMm], forkHashes(mmHashes[parent.mm], x.Runs)...)
				}
			}
		case *image.TaskObjs:
			if cur != nil {
				cur.mm, cur.files = x.Mm, x.Files
			}
		case *image.Stats:
			m.Stats = x
		}
	}
	m.Bytes = rd.Offset()
	var mem []memRegion
	for _, t := range m.Tasks {
		if mm := mms[t.mm]; mm != nil {
			t.Exe = mm.ExePath
			t.MemPages = mmPages[t.mm]
			if o.cmdline {
				t.Cmdline = strs(readMem(mmMem[t.mm], mm.ArgStart, mm.ArgEnd))
				t.Env = strs(readMem(mmMem[t.mm], mm.EnvStart, mm.EnvEnd))
			}
			if o.mem && t.Pid == o.memPid {
				mem = mmMem[t.mm]
			}
			t.hashes, t.Vmas = mmHashes[t.mm], mmVmas[t.mm]
		}
		for _, fd := range fdsOf[t.files] {
			t.Fds = append(t.Fds, renderFd(fd, objs[fd.File]))
		}
		if p := m.byPid[t.PPid]; p != nil && p != t {
			p.children = append(p.children, t)
		}
	}
	return m, mem, nil
}

// addTasks adds the tasks of the PSTREE to the model.
func (m *model) addTasks(pt *image.Pstree) {
	for i := range pt.Tasks {
		t := &pt.Tasks[i]
		tv := &taskView{Pid: t.Pid, PPid: t.PPid, Pgid: t.Pgid, Sid: t.Sid, Comm: cstr(t.Comm[:]), Threads: t.NrThreads, State: "alive"}
		if t.State == image.TaskZombie {
			tv.State = fmt.Sprintf("zombie (status %#x)", t.ExitCode)
		}
		m.Tasks = append(m.Tasks, tv)
		m.byPid[t.Pid] = tv
	}
}

// ancestry is pid and its ancestors in the PSTREE.
func ancestry(pt *image.Pstree, pid int32) map[int32]bool {
	ppid := map[int32]int32{}
	for _, t := range pt.Tasks {
		ppid[t.Pid] = t.PPid
	}
	out := map[int32]bool{}
	for p := pid; p != 0 && !out[p]; p = ppid[p] {
		out[p] = true
	}
	return out
}

// forkRegions gives the memory mm the parts of its parent's kept memory
// that runs (a FORK_PAGES record: pages that are the parent's) name, and
// returns how many pages runs hold.
func forkRegions(mem map[uint32][]memRegion, parent *taskView, mm uint32, runs []image.PageRun) uint64 {
	var n uint64
	for _, run := range runs {
		n += uint64(run.Pages)
		if parent == nil || parent.mm == 0 {
			continue
		}
		lo, hi := run.Vaddr, run.Vaddr+uint64(run.Pages)*image.PageSize
		for _, r := range mem[parent.mm] {
			a, b := max(lo, r.Vaddr), min(hi, r.Vaddr+uint64(len(r.Data)))
			if a < b {
				mem[mm] = append(mem[mm], memRegion{Vaddr: a, Data: r.Data[a-r.Vaddr : b-r.Vaddr]})
			}
		}
	}
	return n
}

// forkHashes are the hashes, of the parent's, of the pages runs (a
// FORK_PAGES record) name: the child's too.
func forkHashes(parent []pageHash, runs []image.PageRun) []pageHash {
	var out []pageHash
	for _, h := range parent {
		// runs ascend as written (unsorted ones only miss pages here).
		i := sort.Search(len(runs), func(i int) bool {
			return runs[i].Vaddr+uint64(runs[i].Pages)*image.PageSize > h.Vaddr
		})
		if i < len(runs) && h.Vaddr >= runs[i].Vaddr {
			out = append(out, h)
		}
	}
	return out
}

// pageSink says what readPages does with a PAGES record's pages: keep
// them all in one region per run (keepAll), keep the pages keep wants,
// hash each (hash non-nil).
type pageSink struct {
	keepAll bool
	keep    func(vaddr uint64) bool
	kept    func(memRegion)
	hash    *maphash.Seed
	hashed  func(pageHash)
}

// pageHash is a page of an image: its address and a 64-bit hash of its
// content.
type pageHash struct {
	Vaddr uint64
	Sum   uint64
}

// readPages reads a PAGES record's data through, one page at a time
// unless everything is kept: memory stays bounded by what is kept.
func readPages(rd *image.Reader, x *image.Pages, s pageSink) error {
	if !s.keepAll && s.hash == nil && s.keep == nil {
		return nil
	}
	page := make([]byte, image.PageSize)
	for _, run := range x.Runs {
		if s.keepAll {
			data := make([]byte, uint64(run.Pages)*image.PageSize)
			if err := rd.ReadPageData(data); err != nil {
				return err
			}
			s.kept(memRegion{Vaddr: run.Vaddr, Data: data})
			for i := uint64(0); s.hash != nil && i < uint64(run.Pages); i++ {
				s.hashed(pageHash{Vaddr: run.Vaddr + i*image.PageSize, Sum: maphash.Bytes(*s.hash, data[i*image.PageSize:(i+1)*image.PageSize])})
			}
			continue
		}
		for i := uint64(0); i < uint64(run.Pages); i++ {
			va := run.Vaddr + i*image.PageSize
			if err := rd.ReadPageData(page); err != nil {
				return err
			}
			if s.hash != nil {
				s.hashed(pageHash{Vaddr: va, Sum: maphash.Bytes(*s.hash, page)})
			}
			if s.keep != nil && s.keep(va) {
				s.kept(memRegion{Vaddr: va, Data: append([]byte(nil), page...)})
			}
		}
	}
	return nil
}

func overlaps(a, alen, start, end uint64) bool { return start < end && a < end && start < a+alen }

// readMem copies [start, end) out of the regions kept; missing pages
// read as zeros.
func readMem(regs []memRegion, start, end uint64) []byte {
	if end <= start || end-start > 1<<20 {
		return nil
	}
	out := make([]byte, end-start)
	for _, r := range regs {
		lo, hi := max(start, r.Vaddr), min(end, r.Vaddr+uint64(len(r.Data)))
		if lo < hi {
			copy(out[lo-start:hi-start], r.Data[lo-r.Vaddr:hi-r.Vaddr])
		}
	}
	return out
}

// strs splits NUL-terminated strings.
func strs(b []byte) []string {
	b = bytes.TrimRight(b, "\x00")
	if len(b) == 0 {
		return nil
	}
	return strings.Split(string(b), "\x00")
}

func cstr(b []byte) string { return strings.TrimRight(string(b), "\x00") }

// objrefOf returns a record's objref, if it is an object.
func objrefOf(rec image.Record) (uint32, bool) {
	v := reflect.Indirect(reflect.ValueOf(rec))
	if v.Kind() != reflect.Struct {
		return 0, false
	}
	f, ok := v.Type().FieldByName("Objref")
	if !ok || f.Tag.Get("ckpt") != "objref" {
		return 0, false
	}
	return uint32(v.FieldByIndex(f.Index).Uint()), true
}

// renderFd describes an fd's file.
func renderFd(fd image.Fd, obj image.Record) fdView {
	v := fdView{Fd: fd.Fd, Cloexec: fd.Flags&image.FdFlagCloexec != 0, Kind: "?"}
	if obj == nil {
		v.Name = fmt.Sprintf("object %d", fd.File)
		return v
	}
	v.Kind = strings.ToLower(obj.Type().String())
	switch x := obj.(type) {
	case *image.RegFile:
		v.Kind, v.Name, v.Flags, v.Mode, v.Pos = fileKind(x.Mode), x.Path, openFlags(x.Flags), fmt.Sprintf("%04o", x.Mode&0o7777), x.Pos
	case *image.ExtFile:
		v.Kind, v.Name, v.Flags = "external "+image.ExtKindName(x.Kind), x.Key, openFlags(x.Flags)
	case *image.Pipe:
		v.Name, v.Flags = fmt.Sprintf("pipe %d", x.PipeID), openFlags(x.Flags)
	case *image.InetSocket:
		s := inetSock(x)
		v.Kind, v.Name, v.Flags, v.Socket = "socket", s.Proto+" "+s.State+" "+s.Local, openFlags(x.Flags), s
		if s.Peer != "" {
			v.Name += " -> " + s.Peer
		}
	case *image.UnixSk:
		s := unixSock(x)
		v.Kind, v.Name, v.Flags, v.Socket = "socket", s.Proto+" "+s.State+" "+s.Local, openFlags(x.Flags), s
	case *image.RawSk, *image.IcmpSk, *image.PacketSk:
		s := otherSock(x)
		v.Kind, v.Name, v.Socket = "socket", strings.TrimSpace(s.Proto+" "+s.State+" "+s.Local), s
		if s.Peer != "" {
			v.Name += " -> " + s.Peer
		}
		v.Flags = openFlags(uint32(reflect.Indirect(reflect.ValueOf(x)).FieldByName("Flags").Uint()))
	default:
		if f, ok := reflect.Indirect(reflect.ValueOf(obj)).Type().FieldByName("Flags"); ok && f.Type.Kind() == reflect.Uint32 {
			v.Flags = openFlags(uint32(reflect.Indirect(reflect.ValueOf(obj)).FieldByIndex(f.Index).Uint()))
		}
		if f := reflect.Indirect(reflect.ValueOf(obj)).FieldByName("Path"); f.IsValid() && f.Kind() == reflect.String {
			v.Name = f.String()
		}
	}
	return v
}

func inetSock(x *image.InetSocket) *sockView {
	proto := map[uint32]string{unix.IPPROTO_TCP: "tcp", unix.IPPROTO_UDP: "udp"}[x.Protocol]
	if proto == "" {
		proto = fmt.Sprintf("proto(%d)", x.Protocol)
	}
	if x.Family == unix.AF_INET6 {
		proto += "6"
	}
	state := map[uint32]string{image.InetEstablished: "ESTABLISHED", image.InetListen: "LISTEN", image.InetClose: "CLOSE",
		image.InetSynSent: "SYN_SENT"}[x.State]
	if state == "" {
		state = fmt.Sprintf("state(%d)", x.State)
	}
	s := &sockView{Proto: proto, State: state}
	if x.LocalPort != 0 {
		s.Local = addr(x.Family, x.Local, x.LocalPort)
	}
	if x.State == image.InetEstablished || x.State == image.InetSynSent {
		s.Peer = addr(x.Family, x.Peer, x.PeerPort)
	}
	return s
}

// otherSock describes a raw, ICMP or packet socket: "raw6(58)",
// "icmp 127.0.0.1 id 4660", "packet dgram lo proto 0x0806".
func otherSock(rec image.Record) *sockView {
	switch x := rec.(type) {
	case *image.PacketSk:
		typ := map[uint32]string{unix.SOCK_RAW: "raw", unix.SOCK_DGRAM: "dgram"}[x.SockType]
		s := &sockView{Proto: "packet", State: typ, Local: fmt.Sprintf("proto %#04x", x.Num>>8|x.Num<<8&0xff00)}
		if x.IfName != "" {
			s.Local = x.IfName + " " + s.Local
		}
		return s
	case *image.IcmpSk:
		s := rawSockView((*image.RawSk)(x), "icmp")
		s.Local = strings.TrimSuffix(s.Local, ":0")
		if x.LocalPort != 0 {
			s.Local = addr(x.Family, x.Local, 0)
			s.Local = strings.TrimSuffix(s.Local, ":0") + fmt.Sprintf(" id %d", x.LocalPort)
		}
		return s
	case *image.RawSk:
		s := rawSockView(x, "raw")
		s.Proto += fmt.Sprintf("(%d)", x.Protocol)
		return s
	}
	return &sockView{}
}

func rawSockView(x *image.RawSk, proto string) *sockView {
	if x.Family == unix.AF_INET6 {
		proto += "6"
	}
	s := &sockView{Proto: proto}
	if x.Local != [16]byte{} {
		s.Local = strings.TrimSuffix(addr(x.Family, x.Local, 0), ":0")
	}
	if x.Connected == 1 {
		s.Peer = strings.TrimSuffix(addr(x.Family, x.Peer, 0), ":0")
	}
	return s
}

func addr(family uint32, a [16]byte, port uint32) string {
	ip := net.IP(a[:])
	if family == unix.AF_INET {
		ip = net.IP(a[:4])
	}
	return net.JoinHostPort(ip.String(), strconv.Itoa(int(port)))
}

func unixSock(x *image.UnixSk) *sockView {
	typ := map[uint32]string{unix.SOCK_STREAM: "unix-stream", unix.SOCK_DGRAM: "unix-dgram", unix.SOCK_SEQPACKET: "unix-seqpacket"}[x.SockType]
	state := map[uint32]string{1: "CONNECTED", 7: "UNCONNECTED", 10: "LISTEN"}[x.State]
	s := &sockView{Proto: typ, State: state}
	switch {
	case len(x.Name) > 0 && x.Name[0] == 0:
		s.Local = "@" + string(x.Name[1:])
	case len(x.Name) > 0:
		s.Local = string(x.Name)
	}
	if x.Peer != 0 {
		s.Peer = fmt.Sprintf("socket %d", x.Peer)
	}
	return s
}

// oLargefile is O_LARGEFILE as the kernel reports it in fdinfo on x86-64
// (x/sys/unix defines it as 0 there: 64-bit callers need not pass it).
const oLargefile = 0o100000

// openFlags renders open(2) flags symbolically: O_RDONLY|O_LARGEFILE.
func openFlags(f uint32) string {
	parts := []string{[]string{"O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE"}[f&unix.O_ACCMODE]}
	rest := f &^ unix.O_ACCMODE
	names := []struct {
		bit  uint32
		name string
	}{
		{unix.O_CREAT, "O_CREAT"}, {unix.O_EXCL, "O_EXCL"}, {unix.O_NOCTTY, "O_NOCTTY"}, {unix.O_TRUNC, "O_TRUNC"},
		{unix.O_APPEND, "O_APPEND"}, {unix.O_NONBLOCK, "O_NONBLOCK"}, {unix.O_DSYNC, "O_DSYNC"}, {unix.O_ASYNC, "O_ASYNC"},
		{unix.O_DIRECT, "O_DIRECT"}, {oLargefile, "O_LARGEFILE"}, {unix.O_DIRECTORY, "O_DIRECTORY"},
		{unix.O_NOFOLLOW, "O_NOFOLLOW"}, {unix.O_NOATIME, "O_NOATIME"}, {unix.O_CLOEXEC, "O_CLOEXEC"},
		{unix.O_PATH, "O_PATH"},
	}
	// O_SYNC includes O_DSYNC's bit, O_TMPFILE O_DIRECTORY's.
	if rest&unix.O_SYNC == unix.O_SYNC {
		parts = append(parts, "O_SYNC")
		rest &^= unix.O_SYNC
	}
	for _, n := range names {
		if rest&n.bit != 0 {
			parts = append(parts, n.name)
			rest &^= n.bit
		}
	}
	if rest != 0 {
		parts = append(parts, fmt.Sprintf("%#o", rest))
	}
	return strings.Join(parts, "|")
}

// fileKind names the file type of an st_mode.
func fileKind(mode uint32) string {
	switch mode & unix.S_IFMT {
	case unix.S_IFREG:
		return "file"
	case unix.S_IFDIR:
		return "dir"
	case unix.S_IFCHR:
		return "chardev"
	case unix.S_IFBLK:
		return "blockdev"
	case unix.S_IFIFO:
		return "fifo"
	case unix.S_IFLNK:
		return "symlink"
	case unix.S_IFSOCK:
		return "socket"
	}
	return fmt.Sprintf("mode(%#o)", mode&unix.S_IFMT)
}

// roots are the tasks whose parent is not in the image, in pid order.
func (m *model) roots() []*taskView {
	var r []*taskView
	for _, t := range m.Tasks {
		if p := m.byPid[t.PPid]; p == nil || p == t {
			r = append(r, t)
		}
	}
	sort.Slice(r, func(i, j int) bool { return r[i].Pid < r[j].Pid })
	return r
}
