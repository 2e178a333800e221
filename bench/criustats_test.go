package bench

import (
	"encoding/binary"
	"os"
	"strings"
	"testing"
	"time"
)

// testdata/criu-stats-* were written by criu 4.1.1 on this machine, for a
// 64 MiB workload: a dump with --leave-running, and the restore of another
// dump. Both ran with --display-stats, which printed the figures checked
// here.
func TestParseCRIUDumpStats(t *testing.T) {
	b, err := os.ReadFile("testdata/criu-stats-dump")
	if err != nil {
		t.Fatal(err)
	}
	st, err := ParseCRIUDumpStats(b)
	if err != nil {
		t.Fatal(err)
	}
	want := CRIUDumpStats{
		Freezing: 94 * time.Microsecond, Frozen: 52265 * time.Microsecond,
		MemDump: 29351 * time.Microsecond, MemWrite: 16152 * time.Microsecond,
		PagesWritten: 16412,
	}
	if st != want {
		t.Errorf("got %+v, want %+v", st, want)
	}
	if _, err := ParseCRIURestoreStats(b); err == nil {
		t.Error("a dump stats file read as restore stats")
	}
}

func TestParseCRIURestoreStats(t *testing.T) {
	b, err := os.ReadFile("testdata/criu-stats-restore")
	if err != nil {
		t.Fatal(err)
	}
	st, err := ParseCRIURestoreStats(b)
	if err != nil {
		t.Fatal(err)
	}
	want := CRIURestoreStats{Forking: 0, Restore: 31891 * time.Microsecond, PagesRestored: 16413}
	if st != want {
		t.Errorf("got %+v, want %+v", st, want)
	}
}

func TestParseCRIUStatsCorrupt(t *testing.T) {
	good, err := os.ReadFile("testdata/criu-stats-dump")
	if err != nil {
		t.Fatal(err)
	}
	mutate := func(f func([]byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	for _, tc := range []struct {
		name string
		b    []byte
		want string
	}{
		{"empty", nil, "shorter"},
		{"bad magic", mutate(func(b []byte) []byte { b[0] ^= 1; return b }), "magic"},
		{"bad second magic", mutate(func(b []byte) []byte { b[5] ^= 1; return b }), "second magic"},
		{"length past the end", mutate(func(b []byte) []byte {
			binary.LittleEndian.PutUint32(b[8:], 1000)
			return b
		}), "file holds"},
		{"truncated message", mutate(func(b []byte) []byte {
			binary.LittleEndian.PutUint32(b[8:], 20)
			return b[:32]
		}), "truncated"},
		{"fixed64 field", mutate(func(b []byte) []byte {
			binary.LittleEndian.PutUint32(b[8:], 9)
			return append(b[:12], 0x09, 1, 2, 3, 4, 5, 6, 7, 8)
		}), "wire type 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Every prefix of a bad file must fail cleanly, too.
			_, err := ParseCRIUDumpStats(tc.b)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one mentioning %q", err, tc.want)
			}
		})
	}
	for n := range len(good) {
		if _, err := ParseCRIUDumpStats(good[:n]); err == nil {
			t.Errorf("a %d-byte prefix of a %d-byte file parsed", n, len(good))
		}
	}
}
