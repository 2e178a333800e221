package lazypages

import (
	"bytes"
	"encoding/binary"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseAddress(t *testing.T) {
	for _, c := range []struct{ in, network, address string }{
		{"unix:/run/p.sock", "unix", "/run/p.sock"},
		{"/run/p.sock", "unix", "/run/p.sock"},
		{"127.0.0.1:7000", "tcp", "127.0.0.1:7000"},
		{"[::1]:7000", "tcp", "[::1]:7000"},
	} {
		if n, a := ParseAddress(c.in); n != c.network || a != c.address {
			t.Errorf("ParseAddress(%q) = %s %s", c.in, n, a)
		}
	}
}

func TestCheckRead(t *testing.T) {
	const size = 10 * pageSize
	for _, c := range []struct {
		off, n uint64
		zero   uint32
		ok     bool
	}{
		{0, pageSize, 0, true},
		{9 * pageSize, pageSize, 0, true},
		{0, size, 0, true},
		{0, pageSize, 1, false},                            // reserved field
		{0, 0, 0, false},                                   // empty
		{1, pageSize, 0, false},                            // unaligned offset
		{0, pageSize + 1, 0, false},                        // unaligned length
		{0, maxRead + pageSize, 0, false},                  // too long
		{10 * pageSize, pageSize, 0, false},                // past the end
		{^uint64(0) &^ (pageSize - 1), pageSize, 0, false}, // wraps
	} {
		if err := checkRead(c.off, c.n, c.zero, size); (err == nil) != c.ok {
			t.Errorf("checkRead(%d, %d, %d): %v, want ok=%v", c.off, c.n, c.zero, err, c.ok)
		}
	}
}

// imageFile writes n pages of distinct bytes plus a 40-byte "TAIL".
func imageFile(t *testing.T, name string, pages int, tailByte byte) *os.File {
	t.Helper()
	b := make([]byte, pages*pageSize+tailLen)
	for i := range b {
		b[i] = byte(i / pageSize)
	}
	b[len(b)-1] = tailByte
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func serve(t *testing.T, f *os.File) string {
	t.Helper()
	addr := filepath.Join(t.TempDir(), "s")
	l, err := net.Listen("unix", addr)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- ServePages(l, f, slog.New(slog.NewTextHandler(io.Discard, nil))) }()
	t.Cleanup(func() {
		l.Close()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return "unix:" + addr
}

func TestRemoteSource(t *testing.T) {
	local := imageFile(t, "local", 300, 7)
	addr := serve(t, imageFile(t, "served", 300, 7))
	src, err := dialSource(addr, local)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	// More than one request's worth: split in maxRead pieces.
	got := make([]byte, 290*pageSize)
	if n, err := src.ReadAt(got, 5*pageSize); err != nil || n != len(got) {
		t.Fatalf("ReadAt: %d, %v", n, err)
	}
	want := make([]byte, len(got))
	if _, err := local.ReadAt(want, 5*pageSize); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("pages from the page server differ from the image's")
	}
	// Past the end: refused, and the connection is closed after it.
	if _, err := src.ReadAt(make([]byte, pageSize), 301*pageSize); err == nil || !strings.Contains(err.Error(), "status 1") {
		t.Fatalf("read past the end: %v", err)
	}
	if _, err := src.ReadAt(make([]byte, pageSize), 0); err == nil {
		t.Fatal("the connection serves on after a bad request")
	}
}

func TestRemoteSourceOtherImage(t *testing.T) {
	local := imageFile(t, "local", 4, 7)
	for name, served := range map[string]*os.File{
		"another TAIL": imageFile(t, "tail", 4, 8),
		"another size": imageFile(t, "size", 5, 7),
	} {
		if _, err := dialSource(serve(t, served), local); err == nil || !strings.Contains(err.Error(), "serves another image") {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// A peer that is not a page server (a wrong magic) is refused.
func TestRemoteSourceNotAPageServer(t *testing.T) {
	local := imageFile(t, "local", 4, 7)
	addr := filepath.Join(t.TempDir(), "s")
	l, err := net.Listen("unix", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		hello := append([]byte("HTTP/1.1"), binary.LittleEndian.AppendUint64(nil, 0)...)
		c.Write(append(hello, make([]byte, tailLen)...))
	}()
	if _, err := dialSource(addr, local); err == nil || !strings.Contains(err.Error(), "not a ckpt page server") {
		t.Errorf("dial a non-page-server: %v", err)
	}
}
