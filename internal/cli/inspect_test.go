package cli

import (
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
)

func TestOpenFlags(t *testing.T) {
	for _, c := range []struct {
		f    uint32
		want string
	}{
		{0, "O_RDONLY"},
		{oLargefile, "O_RDONLY|O_LARGEFILE"},
		{unix.O_WRONLY | unix.O_APPEND | unix.O_CLOEXEC, "O_WRONLY|O_APPEND|O_CLOEXEC"},
		{unix.O_RDWR | unix.O_NONBLOCK, "O_RDWR|O_NONBLOCK"},
		{unix.O_RDWR | unix.O_SYNC, "O_RDWR|O_SYNC"},
		{unix.O_RDONLY | unix.O_DIRECTORY | unix.O_PATH, "O_RDONLY|O_DIRECTORY|O_PATH"},
		{1 << 30, "O_RDONLY|010000000000"},
	} {
		if got := openFlags(c.f); got != c.want {
			t.Errorf("openFlags(%#o) = %s, want %s", c.f, got, c.want)
		}
	}
}

func TestRenderFd(t *testing.T) {
	v := renderFd(image.Fd{Fd: 3, Flags: image.FdFlagCloexec}, &image.RegFile{Flags: oLargefile, Mode: unix.S_IFREG | 0o644, Path: "/etc/passwd", Pos: 12})
	if v.Kind != "file" || v.Mode != "0644" || v.Flags != "O_RDONLY|O_LARGEFILE" || v.Name != "/etc/passwd" || !v.Cloexec || v.Pos != 12 {
		t.Errorf("regular file: %+v", v)
	}
	s := &image.InetSocket{Family: unix.AF_INET, Protocol: unix.IPPROTO_TCP, State: image.InetEstablished, LocalPort: 8080, PeerPort: 40000,
		Local: [16]byte{10, 0, 0, 2}, Peer: [16]byte{10, 0, 0, 1}}
	v = renderFd(image.Fd{Fd: 0}, s)
	if v.Socket == nil || v.Socket.Proto != "tcp" || v.Socket.State != "ESTABLISHED" || v.Socket.Local != "10.0.0.2:8080" || v.Socket.Peer != "10.0.0.1:40000" {
		t.Errorf("tcp socket: %+v %+v", v, v.Socket)
	}
	v = renderFd(image.Fd{Fd: 4}, &image.InetSocket{Family: unix.AF_INET6, Protocol: unix.IPPROTO_TCP, State: image.InetListen, LocalPort: 80})
	if v.Socket.Proto != "tcp6" || v.Socket.Local != "[::]:80" {
		t.Errorf("tcp6 socket: %+v", v.Socket)
	}
	if got := quoteArgs([]string{"sh", "-c", "echo 'hi' $x", ""}); got != `sh -c 'echo '\''hi'\'' $x' ''` {
		t.Errorf("quoteArgs: %s", got)
	}
	if got := strs([]byte("a\x00bc\x00\x00")); strings.Join(got, ",") != "a,bc" {
		t.Errorf("strs: %q", got)
	}
}

// TestRecordsSymbolic: --records renders open flags, modes, protections,
// mapping flags, commands and addresses by name, in the text view and in
// the JSON view's "symbolic".
func TestRecordsSymbolic(t *testing.T) {
	var comm [image.TaskCommLen]byte
	copy(comm[:], "java")
	for _, c := range []struct {
		rec  image.Record
		want []string
	}{
		{&image.RegFile{Flags: oLargefile, Mode: unix.S_IFREG | 0o644, Path: "/etc/passwd"},
			[]string{"Flags=O_RDONLY|O_LARGEFILE", "Mode=S_IFREG|0644", `Path="/etc/passwd"`}},
		{&image.Pstree{Tasks: []image.Task{{Pid: 7, Comm: comm}}}, []string{`Comm="java"`, "Pid=7"}},
		{&image.Task{Pid: 7, Comm: comm}, []string{`Comm="java"`}},
		{&image.TaskMisc{Umask: 0o22, PdeathSig: 9}, []string{"Umask=0022", "PdeathSig=SIGKILL"}},
		{&image.PosixTimers{Timers: []image.PosixTimer{{Signo: 35}}}, []string{"Signo=SIGRTMIN+1"}},
		{&image.Vma{Prot: unix.PROT_READ | unix.PROT_EXEC, Flags: unix.MAP_PRIVATE | unix.MAP_ANONYMOUS},
			[]string{"Prot=PROT_READ|PROT_EXEC", "Flags=MAP_PRIVATE|MAP_ANONYMOUS"}},
		{&image.Fd{Fd: 3, Flags: image.FdFlagCloexec}, []string{"Flags=FD_CLOEXEC"}},
		{&image.InetSocket{Family: unix.AF_INET, SockType: unix.SOCK_STREAM, Protocol: unix.IPPROTO_TCP, State: image.InetListen,
			Flags: unix.O_RDWR | unix.O_NONBLOCK, Local: [16]byte{10, 0, 0, 2}},
			[]string{"Family=AF_INET", "SockType=SOCK_STREAM", "Protocol=IPPROTO_TCP", "State=LISTEN", "Local=10.0.0.2", "Flags=O_RDWR|O_NONBLOCK"}},
		{&image.DeletedFile{Mode: unix.S_IFDIR | 0o755}, []string{"Mode=S_IFDIR|0755"}},
	} {
		var b strings.Builder
		ir := inspected{Type: c.rec.Type().String(), Fields: c.rec, Symbolic: symbolic(c.rec)}
		printRecord(&b, ir)
		for _, w := range c.want {
			if !strings.Contains(b.String(), w) {
				t.Errorf("%s: %q lacks %s", ir.Type, b.String(), w)
			}
			name, val, _ := strings.Cut(w, "=")
			if name != "Pid" && name != "Path" && ir.Symbolic[name] != val && c.rec.Type() != image.TypePstree && c.rec.Type() != image.TypePosixTimers {
				t.Errorf("%s: symbolic %s = %q, want %q", ir.Type, name, ir.Symbolic[name], val)
			}
		}
	}
	if got := fileMode(0o644); got != "0644" {
		t.Errorf("fileMode(0644) = %s", got)
	}
}
