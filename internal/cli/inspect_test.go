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
