package bench

import (
	"testing"
	"time"
)

// A stderr as ckpt -v writes it, with a line that is not key=value first.
const ckptStderr = `warming up
time=2026-11-23T13:07:26.773Z level=INFO msg="checkpoint done" component=checkpoint pid=11674 threads=1 bytes=1074166536 pages=262169 freeze=1.856335463s total=1.9s
time=2026-11-23T13:07:27.072Z level=INFO msg=checkpointed pid=11674 note="a \"quoted\" value" freeze=850µs
`

func TestLogFields(t *testing.T) {
	f, err := LogFields([]byte(ckptStderr), "checkpoint done")
	if err != nil {
		t.Fatal(err)
	}
	if f["pid"] != "11674" || f["pages"] != "262169" || f["level"] != "INFO" {
		t.Errorf("fields = %v", f)
	}
	d, err := DurationField(f, "freeze")
	if err != nil || d != 1856335463*time.Nanosecond {
		t.Errorf("freeze = %v, %v", d, err)
	}

	// An unquoted msg and a quoted value with escapes.
	f, err = LogFields([]byte(ckptStderr), "checkpointed")
	if err != nil {
		t.Fatal(err)
	}
	if f["note"] != `a "quoted" value` {
		t.Errorf("note = %q", f["note"])
	}
	if d, err := DurationField(f, "freeze"); err != nil || d != 850*time.Microsecond {
		t.Errorf("freeze = %v, %v", d, err)
	}
}

func TestLogFieldsErrors(t *testing.T) {
	if _, err := LogFields([]byte(ckptStderr), "restore done"); err == nil {
		t.Error("found a line that is not there")
	}
	f, _ := LogFields([]byte(ckptStderr), "checkpoint done")
	if _, err := DurationField(f, "elapsed"); err == nil {
		t.Error("missing field read without error")
	}
	if _, err := DurationField(map[string]string{"freeze": "12 ms"}, "freeze"); err == nil {
		t.Error("bad duration read without error")
	}
}

func TestParseLogLine(t *testing.T) {
	for _, tc := range []struct {
		line string
		ok   bool
	}{
		{`a=1 b="x y" c=`, true},
		{`  a=1   b=2  `, true},
		{`panic: runtime error`, false},
		{`a="unterminated`, false},
		{`=1`, false},
	} {
		_, err := parseLogLine(tc.line)
		if (err == nil) != tc.ok {
			t.Errorf("parseLogLine(%q) error = %v, want ok=%v", tc.line, err, tc.ok)
		}
	}
	f, _ := parseLogLine(`a=1 b="x y" c=`)
	if f["a"] != "1" || f["b"] != "x y" || f["c"] != "" || len(f) != 3 {
		t.Errorf("fields = %q", f)
	}
}
