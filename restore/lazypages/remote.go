package lazypages

// Pages from a socket: `ckpt page-server --image FILE --address ADDR`
// serves the bytes of one image file, read only, and the page server of
// `ckpt restore --lazy --page-server ADDR` reads the pages it fills from
// there instead of from the local image file (docs/lazy-restore.md).
//
// The protocol, all integers little-endian:
//
//	server, on accept:  "CKPTPGS1"  size u64  tail [40]byte
//	client, per read:   off u64  len u32  zero u32
//	server, per read:   status u32  len u32  then len bytes (status 0 only)
//
// tail is the image's last 40 bytes, its TAIL record (which holds the
// digest of every byte before it) and size its length: the client refuses
// a server whose image is not byte for byte the one being restored. A read
// must be page aligned, at most maxRead bytes and inside the file; anything
// else gets a nonzero status and the connection is closed. The client
// checks every reply's length; a reply that is short, late (readTimeout)
// or an error is a page that cannot be read, which kills the processes
// served (errFatal), as an unreadable image file does. Pages read from the
// socket go nowhere but UFFDIO_COPY into the ranges of the plan.

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"time"
)

const (
	remoteMagic = "CKPTPGS1"
	tailLen     = 40 // the TAIL record: docs/image-format.md
	helloLen    = 8 + 8 + tailLen
	requestLen  = 16
	replyLen    = 8
	// maxRead is the most one request may ask: the server's fill buffer.
	maxRead     = batch * pageSize
	readTimeout = time.Minute
)

// ParseAddress maps --address/--page-server to a dial or listen address:
// "unix:PATH" or an absolute path is a unix socket, anything else TCP
// host:port.
func ParseAddress(addr string) (network, address string) {
	if p, ok := strings.CutPrefix(addr, "unix:"); ok {
		return "unix", p
	}
	if strings.HasPrefix(addr, "/") {
		return "unix", addr
	}
	return "tcp", addr
}

// identity is what names an image to the other side.
type identity struct {
	size int64
	tail [tailLen]byte
}

func imageIdentity(f *os.File) (identity, error) {
	var id identity
	st, err := f.Stat()
	if err != nil {
		return id, fmt.Errorf("image %s: %w", f.Name(), err)
	}
	if st.Size() < tailLen {
		return id, fmt.Errorf("image %s: %d bytes, too short to hold a TAIL record", f.Name(), st.Size())
	}
	id.size = st.Size()
	if _, err := f.ReadAt(id.tail[:], id.size-tailLen); err != nil {
		return id, fmt.Errorf("image %s: read its TAIL: %w", f.Name(), err)
	}
	return id, nil
}

// ServePages serves image on l until l is closed. Each connection is
// served on its own goroutine; a bad request ends that connection only.
func ServePages(l net.Listener, image *os.File, log *slog.Logger) error {
	id, err := imageIdentity(image)
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		c, err := l.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return fmt.Errorf("page server: accept: %w", err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Close()
			if err := servePageConn(c, image, id); !errors.Is(err, io.EOF) {
				log.Warn("page server connection ended", "remote", c.RemoteAddr().String(), "err", err)
			}
		}()
	}
}

// servePageConn serves one connection until it ends: io.EOF when the
// client closed it, another error otherwise.
func servePageConn(c net.Conn, image *os.File, id identity) error {
	hello := make([]byte, 0, helloLen)
	hello = append(hello, remoteMagic...)
	hello = binary.LittleEndian.AppendUint64(hello, uint64(id.size))
	hello = append(hello, id.tail[:]...)
	if _, err := c.Write(hello); err != nil {
		return err
	}
	rd := bufio.NewReader(c)
	req := make([]byte, requestLen)
	buf := make([]byte, maxRead)
	for {
		if _, err := io.ReadFull(rd, req); err != nil {
			return err
		}
		off := binary.LittleEndian.Uint64(req)
		n := uint64(binary.LittleEndian.Uint32(req[8:]))
		if err := checkRead(off, n, binary.LittleEndian.Uint32(req[12:]), id.size); err != nil {
			_, _ = c.Write(binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(nil, 1), 0))
			return err
		}
		got, err := image.ReadAt(buf[:n], int64(off))
		if uint64(got) != n {
			_, _ = c.Write(binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(nil, 2), 0))
			return fmt.Errorf("read %d bytes at %d of %s: got %d: %w", n, off, image.Name(), got, err)
		}
		reply := binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(make([]byte, 0, replyLen+n), 0), uint32(n))
		if _, err := c.Write(append(reply, buf[:n]...)); err != nil {
			return err
		}
	}
}

// checkRead bounds a request: page aligned, 1 to maxRead bytes, inside
// the file, reserved field zero.
func checkRead(off, n uint64, zero uint32, size int64) error {
	switch {
	case zero != 0:
		return fmt.Errorf("bad request: reserved field %#x", zero)
	case n == 0 || n > maxRead || n%pageSize != 0 || off%pageSize != 0:
		return fmt.Errorf("bad request: %d bytes at %d (page-aligned, at most %d)", n, off, maxRead)
	case off > uint64(size) || n > uint64(size)-off:
		return fmt.Errorf("bad request: %d bytes at %d, past the image's %d", n, off, size)
	}
	return nil
}

// remoteSource reads the image's bytes from a page server.
type remoteSource struct {
	addr string
	c    net.Conn
	rd   *bufio.Reader
}

// dialSource connects to the page server at addr and checks it serves
// the same image as local.
func dialSource(addr string, local *os.File) (*remoteSource, error) {
	want, err := imageIdentity(local)
	if err != nil {
		return nil, err
	}
	network, address := ParseAddress(addr)
	c, err := net.DialTimeout(network, address, 10*time.Second)
	if err != nil {
		return nil, fmt.Errorf("page server %s: %w", addr, err)
	}
	r := &remoteSource{addr: addr, c: c, rd: bufio.NewReader(c)}
	_ = c.SetReadDeadline(time.Now().Add(readTimeout))
	hello := make([]byte, helloLen)
	if _, err := io.ReadFull(r.rd, hello); err != nil {
		c.Close()
		return nil, fmt.Errorf("page server %s: hello: %w", addr, err)
	}
	if string(hello[:8]) != remoteMagic {
		c.Close()
		return nil, fmt.Errorf("page server %s: not a ckpt page server (magic %q)", addr, hello[:8])
	}
	size := int64(binary.LittleEndian.Uint64(hello[8:]))
	if size != want.size || !bytes.Equal(hello[16:], want.tail[:]) {
		c.Close()
		return nil, fmt.Errorf("page server %s serves another image (%d bytes, not %d, or another TAIL)", addr, size, want.size)
	}
	return r, nil
}

// ReadAt reads len(p) bytes at off, in requests of at most maxRead.
func (r *remoteSource) ReadAt(p []byte, off int64) (int, error) {
	done := 0
	for done < len(p) {
		n := min(len(p)-done, maxRead)
		if err := r.read(p[done:done+n], off+int64(done)); err != nil {
			return done, err
		}
		done += n
	}
	return done, nil
}

func (r *remoteSource) read(p []byte, off int64) error {
	req := binary.LittleEndian.AppendUint64(make([]byte, 0, requestLen), uint64(off))
	req = binary.LittleEndian.AppendUint32(req, uint32(len(p)))
	req = binary.LittleEndian.AppendUint32(req, 0)
	_ = r.c.SetDeadline(time.Now().Add(readTimeout))
	if _, err := r.c.Write(req); err != nil {
		return fmt.Errorf("page server %s: %w", r.addr, err)
	}
	var hdr [replyLen]byte
	if _, err := io.ReadFull(r.rd, hdr[:]); err != nil {
		return fmt.Errorf("page server %s: %w", r.addr, err)
	}
	status, n := binary.LittleEndian.Uint32(hdr[:]), binary.LittleEndian.Uint32(hdr[4:])
	if status != 0 || int(n) != len(p) {
		return fmt.Errorf("page server %s: %d bytes at %d: status %d, %d bytes", r.addr, len(p), off, status, n)
	}
	if _, err := io.ReadFull(r.rd, p); err != nil {
		return fmt.Errorf("page server %s: %w", r.addr, err)
	}
	return nil
}

func (r *remoteSource) Close() error { return r.c.Close() }
