package proc

import (
	"testing"
)

// TestParseDgramSock reads lines as the kernel prints them: an IPv4 ping
// socket connected to 127.0.0.1 and an IPv6 raw one bound to ::1.
func TestParseDgramSock(t *testing.T) {
	s, err := parseDgramSock("   19: 0100007F:1234 0100007F:0000 01 00000000:00000000 00:00000000 00000000     0        0 74201 2 0000000000000000 0")
	if err != nil {
		t.Fatal(err)
	}
	if s.Local != [16]byte{127, 0, 0, 1} || s.Remote != [16]byte{127, 0, 0, 1} || s.LocalPort != 0x1234 || s.State != 1 || s.Inode != 74201 {
		t.Errorf("got %+v", s)
	}
	s, err = parseDgramSock("  58: 00000000000000000000000001000000:003A 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 1234 2 0000000000000000 0")
	if err != nil {
		t.Fatal(err)
	}
	if s.Local != [16]byte{15: 1} || s.LocalPort != 58 || s.State != 7 || s.Inode != 1234 {
		t.Errorf("got %+v", s)
	}
	for _, bad := range []string{"", "1: 0100007F:1234", "1: 7F:1 0:0 01 0 0 0 0 0 12", "1: 0100007F:1234 0100007F:0000 xx 0 0 0 0 0 12"} {
		if _, err := parseDgramSock(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
