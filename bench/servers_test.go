package bench

import (
	"bufio"
	"bytes"
	"strings"
	"testing"
)

func TestNewServer(t *testing.T) {
	for _, c := range []struct {
		name       string
		kind       string
		mib        int
		unix, lazy bool
	}{
		{"redis-1G", "redis", 1024, false, false},
		{"redis-64M-unix", "redis", 64, true, false},
		{"redis-4G-unix-lazy", "redis", 4096, true, true},
		{"redis-4G-lazy", "redis", 4096, false, true},
		{"nginx", "nginx", 0, false, false},
		{"pyhttp", "pyhttp", 0, false, false},
	} {
		s, err := newServer(c.name, "/scratch")
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if s.kind != c.kind || s.mib != c.mib || s.unix != c.unix || s.lazyOff != c.lazy || s.dir != "/scratch/srv-"+c.name {
			t.Errorf("%s = %+v", c.name, s)
		}
	}
	for _, bad := range []string{"redis", "redis-G", "redis-0M", "redis-xG", "apache", "redis-1T"} {
		if _, err := newServer(bad, ""); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	for _, names := range [][]string{Servers, QuickServers} {
		for _, n := range names {
			if _, err := newServer(n, ""); err != nil {
				t.Errorf("default server %s: %v", n, err)
			}
		}
	}
}

func TestServerArgv(t *testing.T) {
	s, _ := newServer("redis-1G-unix", t.TempDir())
	s.port = 6399
	argv, err := s.argv()
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(argv, " ")
	if !strings.Contains(got, "--port 0 ") || !strings.Contains(got, "--unixsocket "+s.sock()) {
		t.Errorf("unix redis argv = %s", got)
	}
	if n, a := s.addr(); n != "unix" || a != s.sock() {
		t.Errorf("unix redis addr = %s %s", n, a)
	}
	s, _ = newServer("nginx", t.TempDir())
	s.port = 8099
	if _, err := s.argv(); err != nil {
		t.Fatal(err)
	}
	if n, a := s.addr(); n != "tcp" || a != "127.0.0.1:8099" {
		t.Errorf("nginx addr = %s %s", n, a)
	}
}

func TestPortOnly(t *testing.T) {
	table := []byte(`  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0000000000000000 100 0 0 10 0
   1: 0100007F:1F90 0100007F:D2F0 08 00000000:00000000 00:00000000 00000000     0        0 2 1 0000000000000000 20 4 30 10 -1
   2: 0100007F:1F91 0100007F:D2F2 01 00000000:00000000 00:00000000 00000000     0        0 3 1 0000000000000000 20 4 30 10 -1
   3: 0100007F:D2F4 0100007F:1F90 06 00000000:00000000 00:00000000 00000000     0        0 0 1 0000000000000000 20 4 30 10 -1
`)
	// Port 8080 (1F90) has a CLOSE_WAIT socket; 8081 (1F91) an established
	// one; 8082 none; the TIME_WAIT line is a client's (remote 8080).
	if portOnly(table, 8080, "0A", "06", "07") {
		t.Error("8080 with a CLOSE_WAIT socket reads quiet")
	}
	if !portOnly(table, 8080, "0A", "08") {
		t.Error("8080 with LISTEN and CLOSE_WAIT allowed reads busy")
	}
	if portOnly(table, 8081, "0A", "06", "07") {
		t.Error("8081 with an established socket reads quiet")
	}
	if !portOnly(table, 8082, "06") {
		t.Error("8082 with nothing reads busy")
	}
}

func TestReadRESP(t *testing.T) {
	in := "+PONG\r\n$5\r\nhello\r\n$-1\r\n:42\r\n-ERR unknown\r\n$3\r\nab"
	rd := bufio.NewReader(strings.NewReader(in))
	var out bytes.Buffer
	for i := range 4 {
		if err := readRESP(rd, &out); err != nil {
			t.Fatalf("reply %d: %v", i, err)
		}
	}
	if out.String() != "+PONG\r\n$5\r\nhello\r\n$-1\r\n:42\r\n" {
		t.Errorf("replies = %q", out.String())
	}
	if err := readRESP(rd, &out); err == nil || !strings.Contains(err.Error(), "ERR unknown") {
		t.Errorf("error reply: %v", err)
	}
	if err := readRESP(rd, &out); err == nil {
		t.Error("truncated bulk string accepted")
	}
	huge := bufio.NewReader(strings.NewReader("$999999999\r\n"))
	if err := readRESP(huge, &out); err == nil {
		t.Error("a 1 GB bulk string accepted")
	}
}

func TestServerTableAndLazyTarget(t *testing.T) {
	ok := func(wall, verify float64) OpSummary {
		return OpSummary{OK: 1, Wall: Summary{N: 1, Median: wall, Min: wall, Max: wall},
			Verify: Summary{N: 1, Median: verify, Min: verify, Max: verify}}
	}
	failed := OpSummary{Failed: 1, Errors: []string{`criu dump of pid 12: criu-anchor dump -t 12: exit status 1; log ends "Can't get 1:16 opt"`}}
	r := &Results{Servers: []WorkloadResult{
		{Workload: Workload{Name: "nginx", Kind: "nginx"}, Tools: []ToolResult{
			{Tool: "ckpt", Summary: &ToolSummary{DumpLeaveRunning: ok(80e6, 2e6), Dump: ok(100e6, -1),
				Restore: ok(90e6, 95e6), RestoreLazy: ok(150e6, 160e6)}},
			{Tool: "criu", Summary: &ToolSummary{DumpLeaveRunning: failed, Dump: failed}}}},
		{Workload: Workload{Name: "redis-4G-unix-lazy", Kind: "redis", MiB: 4096}, Tools: []ToolResult{
			{Tool: "ckpt", Summary: &ToolSummary{Dump: ok(3e9, -1), RestoreLazy: ok(200e6, 400e6)}},
			{Tool: "criu", Summary: &ToolSummary{Dump: ok(2e9, -1), RestoreLazy: ok(100e6, 300e6)}}}},
	}}
	tb := ServerTable(r)
	if len(tb.Rows) != 4 {
		t.Fatalf("%d rows", len(tb.Rows))
	}
	if row := tb.Rows[1]; row[3] != "FAILED" || row[8] != "not run" || row[2] != "0/1" {
		t.Errorf("CRIU's failed nginx row = %q", row)
	}
	if row := tb.Rows[2]; row[10] != "200 ms (restore --lazy)" || row[11] != "400 ms" || row[12] != "not run" || row[14] != "1.33× (lazy)" {
		t.Errorf("ckpt lazy redis row = %q", row)
	}
	// The same error (but for numbers) twice: once, naming both places.
	if f := ServerFailures(r); len(f) != 1 || f[0] != `criu, nginx checkpoint --leave-running; nginx checkpoint: log ends "Can't get 1:16 opt"` {
		t.Errorf("failures = %q", f)
	}
	tg := lazyServerTarget(r)
	if tg.Met != "no" || !strings.Contains(tg.Figure, "ckpt 400 ms, CRIU 300 ms") {
		t.Errorf("lazy target = %+v", tg)
	}
	r.Servers[1].Tools[1].Summary = &ToolSummary{Dump: failed}
	if tg := lazyServerTarget(r); tg.Met != "yes (CRIU did not answer)" || !strings.Contains(tg.Figure, "its checkpoint FAILED") {
		t.Errorf("lazy target with CRIU failing = %+v", tg)
	}
	r.Servers[1].MiB = 64
	if tg := lazyServerTarget(r); tg.Met != "not measured at 4 GiB" {
		t.Errorf("lazy target at 64 MiB = %+v", tg)
	}
}

func TestRSSTarget(t *testing.T) {
	rss := func(kib float64) OpSummary {
		return OpSummary{OK: 1, MaxRSS: Summary{N: 1, Median: kib, Min: kib, Max: kib}}
	}
	r := &Results{Workloads: []WorkloadResult{{Workload: Workload{Name: "anon-64M"}, Tools: []ToolResult{
		{Tool: "ckpt", Summary: &ToolSummary{Dump: rss(3000), Restore: rss(1000)}},
		{Tool: "criu", Summary: &ToolSummary{Dump: rss(1000), Restore: rss(1000)}}}}}}
	if tg := rssTarget(r); tg.Met != "no" || !strings.Contains(tg.Figure, "anon-64M checkpoint 3.00×") ||
		!strings.Contains(tg.Figure, "1 of 2") {
		t.Errorf("rss target = %+v", tg)
	}
	r.Workloads[0].Tools[0].Summary.Dump = rss(1500)
	if tg := rssTarget(r); tg.Met != "yes" {
		t.Errorf("rss target at 1.5× = %+v", tg)
	}
}
