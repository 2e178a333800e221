package restore

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
)

func TestUnixSkRefuses(t *testing.T) {
	good := func(objref, ino uint32) *image.UnixSk {
		return &image.UnixSk{Objref: objref, Flags: unix.O_RDWR, Ino: ino, SockType: unix.SOCK_STREAM, State: image.UnixUnconnected, PeekOff: -1}
	}
	bad := map[string]func(*image.UnixSk){
		"ino 0":                  func(x *image.UnixSk) { x.Ino = 0 },
		"raw type":               func(x *image.UnixSk) { x.SockType = unix.SOCK_RAW },
		"state 2":                func(x *image.UnixSk) { x.State = 2 },
		"unknown opts":           func(x *image.UnixSk) { x.Opts = 1 << 7 },
		"unknown shutdown":       func(x *image.UnixSk) { x.Shutdown = 4 },
		"datagram listener":      func(x *image.UnixSk) { x.SockType, x.State, x.Backlog = unix.SOCK_DGRAM, image.UnixListening, 1 },
		"listener with no queue": func(x *image.UnixSk) { x.State = image.UnixListening },
		"unconnected with peer":  func(x *image.UnixSk) { x.Peer = 9 },
		"accepted, unnamed":      func(x *image.UnixSk) { x.State, x.Opts, x.Peer = image.UnixConnected, image.UnixOptAccepted, 9 },
		"path with NUL":          func(x *image.UnixSk) { x.Name = []byte("/a\x00b") },
		"name too long":          func(x *image.UnixSk) { x.Name = make([]byte, 109) },
		"O_APPEND":               func(x *image.UnixSk) { x.Flags |= unix.O_APPEND },
	}
	for name, mod := range bad {
		rs := &restorer{objs: map[uint32]image.Record{}}
		x := good(1, 5)
		mod(x)
		if err := rs.addUnixSk(x); !errors.Is(err, ErrBadImage) {
			t.Errorf("%s: %v, want ErrBadImage", name, err)
		}
	}
	rs := &restorer{objs: map[uint32]image.Record{}, byPid: map[int32]*taskPlan{}}
	if err := rs.addUnixSk(good(1, 5)); err != nil {
		t.Fatal(err)
	}
	if err := rs.addUnixSk(good(2, 5)); !errors.Is(err, ErrBadImage) {
		t.Errorf("a second socket 5: %v, want ErrBadImage", err)
	}
	// A pair whose ends do not name each other.
	a, b, c := good(3, 6), good(4, 7), good(5, 8)
	a.State, a.Peer = image.UnixConnected, 7
	b.State, b.Peer = image.UnixConnected, 8
	c.State, c.Peer = image.UnixConnected, 7
	for _, x := range []*image.UnixSk{a, b, c} {
		if err := rs.addUnixSk(x); err != nil {
			t.Fatal(err)
		}
	}
	if err := rs.checkUnix(); !errors.Is(err, ErrBadImage) {
		t.Errorf("a connection not connected back: %v, want ErrBadImage", err)
	}
	for name, q := range map[string]*image.UnixQueue{
		"unknown socket":      {Ino: 99},
		"unknown flags":       {Ino: 5, Flags: 2},
		"stream with sender":  {Ino: 5, Sender: []byte("/x")},
		"creds of a stranger": {Ino: 5, Flags: image.UnixQueueCreds, CredPid: 42},
		"fd in flight 77":     {Ino: 5, Fds: []uint32{77}},
		"a socket in flight":  {Ino: 5, Fds: []uint32{1}},
	} {
		if err := rs.addUnixQueue(q); !errors.Is(err, ErrBadImage) {
			t.Errorf("%s: %v, want ErrBadImage", name, err)
		}
	}
}

func TestUnixBindRefuses(t *testing.T) {
	rs := &restorer{objs: map[uint32]image.Record{}, byPid: map[int32]*taskPlan{}}
	for i, name := range []string{"rel.sock", "/abs.sock", ""} {
		x := &image.UnixSk{Objref: uint32(i + 1), Flags: unix.O_RDWR, Ino: uint32(i + 5), SockType: unix.SOCK_DGRAM,
			State: image.UnixUnconnected, PeekOff: -1, Name: []byte(name)}
		if err := rs.addUnixSk(x); err != nil {
			t.Fatal(err)
		}
	}
	if err := rs.checkUnix(); !errors.Is(err, ErrBadImage) {
		t.Errorf("a relative name with no UNIX_BIND: %v, want ErrBadImage", err)
	}
	for name, b := range map[string]*image.UnixBind{
		"unknown socket":     {Ino: 99, Dir: []byte("/d")},
		"absolute name":      {Ino: 6, Dir: []byte("/d")},
		"unnamed":            {Ino: 7, Dir: []byte("/d")},
		"relative directory": {Ino: 5, Dir: []byte("d")},
		"unknown flags":      {Ino: 5, Flags: 1, Dir: []byte("/d")},
		"too long":           {Ino: 5, Dir: []byte("/" + strings.Repeat("d", 100))},
	} {
		if err := rs.addUnixBind(b); !errors.Is(err, ErrBadImage) {
			t.Errorf("%s: %v, want ErrBadImage", name, err)
		}
	}
	if err := rs.addUnixBind(&image.UnixBind{Ino: 5, Dir: []byte("/d")}); err != nil {
		t.Fatal(err)
	}
	if err := rs.addUnixBind(&image.UnixBind{Ino: 5, Dir: []byte("/e")}); !errors.Is(err, ErrBadImage) {
		t.Errorf("a second UNIX_BIND: %v, want ErrBadImage", err)
	}
	if err := rs.checkUnix(); err != nil {
		t.Errorf("every relative name has its UNIX_BIND: %v", err)
	}
	if got := string(rs.addrOf(rs.ux.socks[5])); got != "/d/rel.sock" {
		t.Errorf("address of rel.sock bound from /d: %q", got)
	}
}
