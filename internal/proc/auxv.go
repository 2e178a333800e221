package proc

import (
	"encoding/binary"
	"errors"
)

// Auxv reads /proc/PID/auxv as native-endian u64 words: type, value pairs
// up to and including the AT_NULL pair, which the kernel includes
// (fs/proc/base.c:proc_pid_auxv()).
func Auxv(pid int) ([]uint64, error) {
	path := pidPath(pid, "auxv")
	buf := getBuf()
	defer putBuf(buf)
	if err := readAll(path, buf); err != nil {
		return nil, readErr(path, err)
	}
	b := *buf
	if len(b) == 0 {
		// A kernel thread has no mm and so no auxv; a zombie gives ESRCH.
		return nil, nil
	}
	if len(b)%16 != 0 {
		return nil, readErr(path, errors.New("size is not a whole number of (type, value) pairs"))
	}
	words := make([]uint64, len(b)/8)
	for i := range words {
		words[i] = binary.NativeEndian.Uint64(b[i*8:])
	}
	return words, nil
}
