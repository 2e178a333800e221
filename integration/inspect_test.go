package integration

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestInspectDiffMemory: `ckpt inspect diff` of two checkpoints of a
// running counter (its count in memory moves on between them) names the
// pages whose content differs, per mapping, with their address ranges; a
// checkpoint compared with itself shows no memory difference.
func TestInspectDiffMemory(t *testing.T) {
	tp, counter := startCounter(t)
	a, b := filepath.Join(tp.dir, "a"), filepath.Join(tp.dir, "b")
	checkpoint(t, tp.pid, a, true)
	waitGrowth(t, counter, lines(counter))
	checkpoint(t, tp.pid, b, true)
	out, stderr, err := runCkpt("inspect", "diff", a, b)
	if err != nil {
		t.Fatalf("ckpt inspect diff: %v\n%s", err, stderr)
	}
	re := regexp.MustCompile(fmt.Sprintf(`(?m)^~ task %d memory 0x[0-9a-f]+-0x[0-9a-f]+ .*: [0-9]+ (pages differ|page differs) \(0x[0-9a-f]+-0x[0-9a-f]+`, tp.pid))
	if !re.MatchString(out) {
		t.Errorf("ckpt inspect diff of two checkpoints of a counting process shows no page that differs:\n%s", out)
	}
	out, stderr, err = runCkpt("inspect", "diff", a, a)
	if err != nil {
		t.Fatalf("ckpt inspect diff: %v\n%s", err, stderr)
	}
	if strings.Contains(out, " memory ") {
		t.Errorf("a checkpoint compared with itself shows memory differences:\n%s", out)
	}
}

// TestInspectArchiveRefuses: hostile kubelet archives, plain or gzipped
// (a member leading out with "..", at the start or inside, an absolute
// name, container.log a symbolic link or a FIFO, hard links out and to a
// member, character and block devices, a member twice, an oversized
// member or metadata file) are refused by ckpt inspect, ckpt inspect list
// and ckpt import, by name, with nothing written anywhere (nothing is
// unpacked).
func TestInspectArchiveRefuses(t *testing.T) {
	needCkpt(t)
	dir := t.TempDir()
	for _, c := range []struct {
		name  string
		h     tar.Header
		data  string
		flags []string
		want  string
	}{
		{"traversal", tar.Header{Name: "../../../tmp/ckpt-evil", Typeflag: tar.TypeReg}, "x", nil, "leads out"},
		{"absolute", tar.Header{Name: "/tmp/ckpt-evil", Typeflag: tar.TypeReg}, "x", nil, "absolute"},
		{"symlinked log", tar.Header{Name: "container.log", Typeflag: tar.TypeSymlink, Linkname: "/etc/shadow"}, "", nil, "symbolic link"},
		{"hard link", tar.Header{Name: "checkpoint/shadow", Typeflag: tar.TypeLink, Linkname: "/etc/shadow"}, "", nil, "hard link"},
		{"device", tar.Header{Name: "checkpoint/mem", Typeflag: tar.TypeChar, Devmajor: 1, Devminor: 1}, "", nil, "device"},
		{"oversized", tar.Header{Name: "rootfs-diff.tar", Typeflag: tar.TypeReg}, strings.Repeat("x", 4096), []string{"--max-member-size", "1024"}, "more than 1024"},
		{"traversal inside", tar.Header{Name: "checkpoint/../../../tmp/ckpt-evil", Typeflag: tar.TypeReg}, "x", nil, "leads out"},
		{"hard link to a member", tar.Header{Name: "checkpoint/log", Typeflag: tar.TypeLink, Linkname: "container.log"}, "", nil, "hard link"},
		{"block device", tar.Header{Name: "checkpoint/disk", Typeflag: tar.TypeBlock, Devmajor: 8}, "", nil, "device"},
		{"fifo", tar.Header{Name: "container.log", Typeflag: tar.TypeFifo}, "", nil, "FIFO"},
		{"twice", tar.Header{Name: "config.dump", Typeflag: tar.TypeReg}, `{"id":"y","name":"other"}`, nil, "twice"},
		{"oversized metadata", tar.Header{Name: "spec.dump", Typeflag: tar.TypeReg}, `"` + strings.Repeat("x", 5<<20) + `"`, nil, "more than"},
	} {
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		add := func(h tar.Header, data string) {
			h.Mode, h.Size = 0o644, int64(len(data))
			if err := tw.WriteHeader(&h); err != nil {
				t.Fatal(err)
			}
			io.WriteString(tw, data)
		}
		add(tar.Header{Name: "config.dump", Typeflag: tar.TypeReg}, `{"id":"x","name":"evil"}`)
		add(c.h, c.data)
		add(tar.Header{Name: "checkpoint/image.ckpt", Typeflag: tar.TypeReg}, "")
		tw.Close()
		b := buf.Bytes()
		// Half of them gzipped, as an archive may be.
		if len(c.name)%2 == 0 {
			var z bytes.Buffer
			zw := gzip.NewWriter(&z)
			zw.Write(b)
			zw.Close()
			b = z.Bytes()
		}
		p := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-")+".tar")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(ckptBin, append([]string{"inspect", p}, c.flags...)...).CombinedOutput()
		if err == nil || !strings.Contains(string(out), c.want) {
			t.Errorf("%s: ckpt inspect: %v, want a refusal saying %q\n%s", c.name, err, c.want, out)
		}
		// ckpt import checks the archive before it connects to anything.
		out, err = exec.Command(ckptBin, append(append([]string{"import", "--address", filepath.Join(dir, "no.sock")}, c.flags...), p, "x")...).CombinedOutput()
		if err == nil || !strings.Contains(string(out), c.want) {
			t.Errorf("%s: ckpt import: %v, want a refusal saying %q\n%s", c.name, err, c.want, out)
		}
	}
	if _, err := os.Lstat("/tmp/ckpt-evil"); err == nil {
		t.Errorf("/tmp/ckpt-evil was written")
	}
	// ckpt inspect list names each refused archive, and goes on.
	out, err := exec.Command(ckptBin, "inspect", "list", dir, "--max-member-size", "1024").CombinedOutput()
	if err != nil || strings.Count(string(out), "(refused:") < 12 {
		t.Errorf("ckpt inspect list of hostile archives: %v\n%s", err, out)
	}
	if ents, err := os.ReadDir(dir); err != nil || len(ents) != 12 {
		t.Errorf("the hostile archives' directory holds %d entries, not the 12 archives (%v)", len(ents), err)
	}
}
