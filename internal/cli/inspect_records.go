package cli

import (
	"fmt"
	"io"
	"net/netip"
	"reflect"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
)

// `ckpt inspect --records` prints every field of every record. Numbers
// that stand for names (open flags, file modes, protections, mapping
// flags, socket families and states) and byte arrays that hold text (a
// task's command) or an address are rendered as people read them:
// O_RDONLY|O_LARGEFILE, S_IFREG|0644, PROT_READ|PROT_EXEC, "sleep",
// 10.0.0.2. The text view shows only the rendering; the JSON view keeps
// the numbers in "fields" (what the record holds, for scripts) and adds
// the rendering in "symbolic".

// openFlagRecords are the records whose Flags field holds open(2) flags
// (as /proc/PID/fdinfo shows them).
var openFlagRecords = map[reflect.Type]bool{}

func init() {
	for _, r := range []image.Record{
		&image.RegFile{}, &image.ExtFile{}, &image.Pipe{}, &image.Fifo{}, &image.DeletedOpen{},
		&image.Epoll{}, &image.EventFd{}, &image.InetSocket{}, &image.UnixSk{}, &image.NetlinkSk{},
		&image.Inotify{}, &image.MemfdFile{}, &image.PidFd{}, &image.SignalFd{}, &image.TimerFd{},
		&image.TtyFile{},
	} {
		openFlagRecords[reflect.TypeOf(r).Elem()] = true
	}
}

// symbolic renders the fields of rec that have a symbolic form, by field
// name; nil when none has.
func symbolic(rec image.Record) map[string]string {
	v := reflect.Indirect(reflect.ValueOf(rec))
	if v.Kind() != reflect.Struct {
		return nil
	}
	out := map[string]string{}
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		if !t.Field(i).IsExported() {
			continue
		}
		if s, ok := symbolicField(t, t.Field(i).Name, v.Field(i)); ok {
			out[t.Field(i).Name] = s
		}
	}
	if x, ok := rec.(*image.InetSocket); ok {
		inetAddrs(x, out)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// symbolicField renders field name of a struct of type owner, if it has a
// symbolic form.
func symbolicField(owner reflect.Type, name string, f reflect.Value) (string, bool) {
	u := func() uint32 { return uint32(f.Uint()) }
	switch {
	case f.Kind() == reflect.Array && f.Type().Elem().Kind() == reflect.Uint8:
		b := make([]byte, f.Len())
		reflect.Copy(reflect.ValueOf(b), f)
		if owner == reflect.TypeOf(image.InetSocket{}) {
			return "", false // addresses: rendered with the family (inetAddrs)
		}
		return fmt.Sprintf("%q", cstr(b)), true
	case f.Kind() == reflect.Slice && owner == reflect.TypeOf(image.Pstree{}):
		// PSTREE's tasks, each with its command, however many.
		parts := make([]string, f.Len())
		for i := range parts {
			parts[i] = structText(f.Index(i))
		}
		return "[" + strings.Join(parts, " ") + "]", true
	case (name == "Signo" || name == "PdeathSig" || name == "Signal") && (f.Kind() == reflect.Int32 || f.Kind() == reflect.Uint32):
		n := f.Int
		if f.Kind() == reflect.Uint32 {
			n = func() int64 { return int64(f.Uint()) }
		}
		return signalName(n())
	case f.Kind() != reflect.Uint32:
		return "", false
	}
	switch {
	case name == "Flags" && openFlagRecords[owner]:
		return openFlags(u()), true
	case name == "Flags" && owner == reflect.TypeOf(image.Fd{}):
		if u()&image.FdFlagCloexec != 0 {
			return "FD_CLOEXEC", true
		}
		return "0", true
	case name == "Mode" && owner != reflect.TypeOf(image.Seccomp{}):
		return fileMode(u()), true
	case name == "Umask":
		return fmt.Sprintf("%04o", u()), true
	case name == "Prot" && owner == reflect.TypeOf(image.Vma{}):
		return bitNames(u(), "PROT_NONE", []bitName{{unix.PROT_READ, "PROT_READ"}, {unix.PROT_WRITE, "PROT_WRITE"}, {unix.PROT_EXEC, "PROT_EXEC"}}), true
	case name == "Flags" && owner == reflect.TypeOf(image.Vma{}):
		return bitNames(u(), "0", []bitName{{unix.MAP_SHARED, "MAP_SHARED"}, {unix.MAP_PRIVATE, "MAP_PRIVATE"},
			{unix.MAP_ANONYMOUS, "MAP_ANONYMOUS"}, {unix.MAP_GROWSDOWN, "MAP_GROWSDOWN"}, {unix.MAP_LOCKED, "MAP_LOCKED"},
			{unix.MAP_NORESERVE, "MAP_NORESERVE"}}), true
	case name == "Family":
		return map[uint32]string{unix.AF_INET: "AF_INET", unix.AF_INET6: "AF_INET6", unix.AF_UNIX: "AF_UNIX", unix.AF_NETLINK: "AF_NETLINK"}[u()], true
	case name == "SockType":
		if s, ok := map[uint32]string{unix.SOCK_STREAM: "SOCK_STREAM", unix.SOCK_DGRAM: "SOCK_DGRAM", unix.SOCK_SEQPACKET: "SOCK_SEQPACKET", unix.SOCK_RAW: "SOCK_RAW"}[u()]; ok {
			return s, true
		}
	case name == "Protocol" && owner == reflect.TypeOf(image.InetSocket{}):
		if s, ok := map[uint32]string{unix.IPPROTO_TCP: "IPPROTO_TCP", unix.IPPROTO_UDP: "IPPROTO_UDP"}[u()]; ok {
			return s, true
		}
	case name == "State" && owner == reflect.TypeOf(image.InetSocket{}):
		return inetSock(&image.InetSocket{State: u(), Protocol: unix.IPPROTO_TCP}).State, true
	case name == "State" && owner == reflect.TypeOf(image.UnixSk{}):
		if s := unixSock(&image.UnixSk{State: u()}).State; s != "" {
			return s, true
		}
	}
	return "", false
}

// inetAddrs renders an INET_SOCKET's addresses with its family.
func inetAddrs(x *image.InetSocket, out map[string]string) {
	for name, a := range map[string][16]byte{"Local": x.Local, "Peer": x.Peer} {
		ip := netip.AddrFrom16(a)
		if x.Family == unix.AF_INET {
			ip = netip.AddrFrom4([4]byte(a[:4]))
		}
		out[name] = ip.String()
	}
}

// signalName names a signal number (0: none), as kill -l does.
func signalName(n int64) (string, bool) {
	if n <= 0 || n > 64 {
		return "", false
	}
	if name := unix.SignalName(syscall.Signal(n)); name != "" {
		return name, true
	}
	if n >= 34 {
		return fmt.Sprintf("SIGRTMIN+%d", n-34), true
	}
	return "", false
}

type bitName struct {
	bit  uint32
	name string
}

// bitNames renders a bit set as A|B, with zero's name for 0 and the bits
// left unnamed in octal.
func bitNames(v uint32, zero string, names []bitName) string {
	if v == 0 {
		return zero
	}
	var parts []string
	for _, n := range names {
		if v&n.bit != 0 {
			parts = append(parts, n.name)
			v &^= n.bit
		}
	}
	if v != 0 {
		parts = append(parts, fmt.Sprintf("%#x", v))
	}
	return strings.Join(parts, "|")
}

// fileMode renders an st_mode: S_IFREG|0644, or 0644 for permission bits
// alone.
func fileMode(m uint32) string {
	perm := fmt.Sprintf("%04o", m&0o7777)
	t := m & unix.S_IFMT
	if t == 0 {
		if rest := m &^ 0o7777; rest != 0 {
			return fmt.Sprintf("%s|%#o", perm, rest)
		}
		return perm
	}
	name := map[uint32]string{unix.S_IFREG: "S_IFREG", unix.S_IFDIR: "S_IFDIR", unix.S_IFCHR: "S_IFCHR", unix.S_IFBLK: "S_IFBLK",
		unix.S_IFIFO: "S_IFIFO", unix.S_IFLNK: "S_IFLNK", unix.S_IFSOCK: "S_IFSOCK"}[t]
	if name == "" {
		name = fmt.Sprintf("%#o", t)
	}
	return name + "|" + perm
}

// structText renders a struct as {Name=value ...}, symbolically where
// symbolicField can.
func structText(v reflect.Value) string {
	t := v.Type()
	parts := make([]string, 0, t.NumField())
	for i := 0; i < t.NumField(); i++ {
		if !t.Field(i).IsExported() {
			continue
		}
		s, ok := symbolicField(t, t.Field(i).Name, v.Field(i))
		if !ok {
			s = formatField(v.Field(i))
		}
		parts = append(parts, t.Field(i).Name+"="+s)
	}
	return "{" + strings.Join(parts, " ") + "}"
}

// printRecord prints one record on one line: offset, type, then its
// fields, symbolically where they have names; byte blobs are shown by
// size, register files in hex.
func printRecord(w io.Writer, ir inspected) {
	var b strings.Builder
	fmt.Fprintf(&b, "%10d %-10s", ir.Offset, ir.Type)
	v := reflect.Indirect(reflect.ValueOf(ir.Fields))
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Tag.Get("ckpt") == "-" && f.Name != "DataOffset" {
			continue
		}
		s, ok := ir.Symbolic[f.Name]
		if !ok {
			s = formatField(v.Field(i))
		}
		fmt.Fprintf(&b, " %s=%s", f.Name, s)
	}
	fmt.Fprintln(w, b.String())
}

func formatField(v reflect.Value) string {
	switch v.Kind() {
	case reflect.String:
		return fmt.Sprintf("%q", v.String())
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return fmt.Sprintf("<%d bytes>", v.Len())
		}
		if v.Type().Elem().Kind() == reflect.Array {
			return fmt.Sprintf("<%d entries>", v.Len())
		}
		if v.Type().Elem().Kind() == reflect.Struct {
			if v.Len() > 4 {
				return fmt.Sprintf("<%d entries>", v.Len())
			}
			parts := make([]string, v.Len())
			for i := range parts {
				parts[i] = structText(v.Index(i))
			}
			return "[" + strings.Join(parts, " ") + "]"
		}
	case reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return fmt.Sprintf("%q", strings.TrimRight(string(v.Bytes()), "\x00"))
		}
		if v.Type().Elem().Kind() == reflect.Uint64 {
			parts := make([]string, v.Len())
			for i := range parts {
				parts[i] = fmt.Sprintf("%x", v.Index(i).Uint())
			}
			return "[" + strings.Join(parts, " ") + "]"
		}
	case reflect.Struct:
		return structText(v)
	case reflect.Uint64:
		return fmt.Sprintf("%#x", v.Uint())
	}
	return fmt.Sprintf("%v", v.Interface())
}
