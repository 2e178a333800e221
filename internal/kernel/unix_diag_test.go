package kernel

import (
	"fmt"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

func sockIno(t *testing.T, fd int) uint32 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		t.Fatal(err)
	}
	return uint32(st.Ino)
}

// TestUnixSockets lists our own sockets: a socketpair names each end as
// the other's peer, and a listener shows its backlog and the connection
// waiting in it.
func TestUnixSockets(t *testing.T) {
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(pair[0])
	defer unix.Close(pair[1])
	l, err := unix.Socket(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(l)
	name := fmt.Sprintf("@ckpt-diag-test-%d", os.Getpid())
	if err := unix.Bind(l, &unix.SockaddrUnix{Name: name}); err != nil {
		t.Fatal(err)
	}
	if err := unix.Listen(l, 7); err != nil {
		t.Fatal(err)
	}
	c, err := unix.Socket(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(c)
	if err := unix.Connect(c, &unix.SockaddrUnix{Name: name}); err != nil {
		t.Fatal(err)
	}
	if _, err := unix.Write(pair[0], []byte("hello")); err != nil {
		t.Fatal(err)
	}
	socks, err := UnixSockets(fmt.Sprintf("/proc/%d/ns/net", os.Getpid()))
	if err != nil {
		t.Fatal(err)
	}
	a, b := socks[sockIno(t, pair[0])], socks[sockIno(t, pair[1])]
	if a == nil || b == nil {
		t.Fatalf("socketpair not listed")
	}
	if a.Peer != b.Ino || b.Peer != a.Ino || a.State != UnixStateEstablished || a.Type != unix.SOCK_STREAM {
		t.Errorf("socketpair: %+v %+v", a, b)
	}
	if b.RQueue != 5 {
		t.Errorf("queued: %d bytes, want 5", b.RQueue)
	}
	ls := socks[sockIno(t, l)]
	if ls == nil || ls.State != UnixStateListen || ls.WQueue != 7 || string(ls.Name) != "\x00"+name[1:] || len(ls.Icons) != 1 {
		t.Fatalf("listener: %+v", ls)
	}
	// The backlog names the clients; the embryo, having no inode, shows
	// as peer 0 of its client.
	if cs := socks[sockIno(t, c)]; cs == nil || cs.Ino != ls.Icons[0] || cs.Peer != 0 || cs.State != UnixStateEstablished {
		t.Errorf("client %+v: not the connection in the backlog %v", cs, ls.Icons)
	}
}
