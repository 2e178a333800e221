package proc

import (
	"bytes"
	"strconv"
	"sync"

	"golang.org/x/sys/unix"
)

const (
	minBuf = 16 << 10
	// lineChunk is how much of smaps (about 1 KiB a VMA) is read at a
	// time: each read(2) of a seq_file restarts the kernel's VMA walk where
	// the last one stopped, so bigger chunks mean fewer restarts, while the
	// file never sits in memory whole.
	lineChunk = 256 << 10
	// maxPooledBuf keeps one huge file from pinning its buffer in the pool
	// for the rest of the run.
	maxPooledBuf = 8 << 20
)

// bufPool holds read buffers. /proc files report size 0, so a whole-file
// read grows its buffer until EOF; reusing buffers keeps a dump of many
// tasks from allocating one per file.
var bufPool = sync.Pool{New: func() any {
	b := make([]byte, 0, minBuf)
	return &b
}}

func getBuf() *[]byte { return bufPool.Get().(*[]byte) }

func putBuf(b *[]byte) {
	if cap(*b) <= maxPooledBuf {
		*b = (*b)[:0]
		bufPool.Put(b)
	}
}

// pidPath returns "/proc/PID/name".
func pidPath(pid int, name string) string {
	return "/proc/" + strconv.Itoa(pid) + "/" + name
}

// taskPath returns "/proc/PID/task/TID/name".
func taskPath(pid, tid int, name string) string {
	return "/proc/" + strconv.Itoa(pid) + "/task/" + strconv.Itoa(tid) + "/" + name
}

func openFile(path string, flags int) (int, error) {
	for {
		fd, err := unix.Open(path, flags|unix.O_CLOEXEC, 0)
		if err != unix.EINTR {
			return fd, err
		}
	}
}

// readAll reads the whole file at path into *buf, reusing its capacity.
// The error is bare; callers wrap it with readErr.
func readAll(path string, buf *[]byte) error {
	fd, err := openFile(path, unix.O_RDONLY)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	b := (*buf)[:0]
	for {
		if len(b) == cap(b) {
			b = append(b, make([]byte, max(cap(b), minBuf))...)[:len(b)]
		}
		n, err := unix.Read(fd, b[len(b):cap(b)])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			*buf = b
			return err
		}
		if n == 0 {
			break
		}
		b = b[:len(b)+n]
	}
	*buf = b
	return nil
}

// forEachLine calls fn with each line of the file at path, without its
// newline, reading lineChunk bytes at a time so that a large file never
// sits in memory whole. A line is valid only during the call. The error is
// bare, or fn's; callers wrap it with readErr.
func forEachLine(path string, fn func(line []byte) error) error {
	fd, err := openFile(path, unix.O_RDONLY)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	buf := getBuf()
	defer putBuf(buf)
	b := *buf
	if cap(b) < lineChunk {
		b = make([]byte, 0, lineChunk)
	}
	b = b[:0]
	for eof := false; !eof; {
		if len(b) == cap(b) { // one line longer than the buffer
			b = append(b, make([]byte, cap(b))...)[:len(b)]
		}
		n, err := unix.Read(fd, b[len(b):cap(b)])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			*buf = b
			return err
		}
		eof = n == 0
		b = b[:len(b)+n]
		data := b
		for {
			i := bytes.IndexByte(data, '\n')
			if i < 0 {
				break
			}
			if err := fn(data[:i]); err != nil {
				*buf = b
				return err
			}
			data = data[i+1:]
		}
		if eof && len(data) > 0 { // a last line without a newline
			if err := fn(data); err != nil {
				*buf = b
				return err
			}
			data = nil
		}
		b = b[:copy(b, data)]
	}
	*buf = b
	return nil
}

// nextLine splits off the first line of b, without its newline.
func nextLine(b []byte) (line, rest []byte) {
	for i, c := range b {
		if c == '\n' {
			return b[:i], b[i+1:]
		}
	}
	return b, nil
}

// cutByte splits b at the first sep.
func cutByte(b []byte, sep byte) (before, after []byte, found bool) {
	for i, c := range b {
		if c == sep {
			return b[:i], b[i+1:], true
		}
	}
	return b, nil, false
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' }

func trimSpace(b []byte) []byte {
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

// nextField returns the first blank-separated field of b and the rest of b
// after it.
func nextField(b []byte) (field, rest []byte) {
	i := 0
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	j := i
	for j < len(b) && !isSpace(b[j]) {
		j++
	}
	return b[i:j], b[j:]
}

// parseUint parses an unsigned number in base 8, 10 or 16 with no prefix.
func parseUint(b []byte, base uint64) (uint64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	cutoff := ^uint64(0) / base
	var v uint64
	for _, c := range b {
		var d uint64
		switch {
		case c >= '0' && c <= '9':
			d = uint64(c - '0')
		case c >= 'a' && c <= 'f':
			d = uint64(c-'a') + 10
		case c >= 'A' && c <= 'F':
			d = uint64(c-'A') + 10
		default:
			return 0, false
		}
		if d >= base || v > cutoff {
			return 0, false
		}
		v *= base
		if v+d < v { // overflow
			return 0, false
		}
		v += d
	}
	return v, true
}

func parseDec(b []byte) (uint64, bool) { return parseUint(b, 10) }
func parseHex(b []byte) (uint64, bool) { return parseUint(b, 16) }

// parseInt parses a signed decimal number.
func parseInt(b []byte) (int64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	u, ok := parseDec(b)
	if !ok || u > 1<<63 || (!neg && u == 1<<63) {
		return 0, false
	}
	if neg {
		return -int64(u), true
	}
	return int64(u), true
}
