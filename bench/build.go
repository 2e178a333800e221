package bench

import (
	"embed"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
)

//go:embed workloads/*.c workloads/*.h
var workloadSrc embed.FS

// workloadPrograms are the C programs under workloads/, built by name.
var workloadPrograms = []string{"mem", "threads", "tree", "fds", "floor", "runwait"}

// buildWorkloads compiles every workload program into dir/bin and returns
// that directory.
func buildWorkloads(dir string) (string, error) {
	src, bin := filepath.Join(dir, "src"), filepath.Join(dir, "bin")
	for _, d := range []string{src, bin} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return "", fmt.Errorf("build workloads: %w", err)
		}
	}
	ents, err := workloadSrc.ReadDir("workloads")
	if err != nil {
		return "", fmt.Errorf("build workloads: %w", err)
	}
	for _, e := range ents {
		b, err := workloadSrc.ReadFile("workloads/" + e.Name())
		if err != nil {
			return "", fmt.Errorf("build workloads: %w", err)
		}
		if err := os.WriteFile(filepath.Join(src, e.Name()), b, 0o644); err != nil {
			return "", fmt.Errorf("build workloads: %w", err)
		}
	}
	for _, p := range workloadPrograms {
		cmd := exec.Command("gcc", "-O2", "-Wall", "-Wextra", "-Werror", "-o", filepath.Join(bin, p),
			filepath.Join(src, p+".c"), "-lpthread")
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("gcc %s.c: %w\n%s", p, err, out)
		}
	}
	return bin, nil
}

// measureFloor runs the floor program once for mib MiB, writing its file
// into dir (the image directory's file system).
func measureFloor(binDir, dir string, mib int) Floor {
	out, err := exec.Command(filepath.Join(binDir, "floor"), strconv.Itoa(mib), filepath.Join(dir, "floor.data")).Output()
	if err != nil {
		return Floor{Err: fmt.Sprintf("floor %d MiB: %v", mib, err)}
	}
	var f Floor
	if err := json.Unmarshal(out, &f); err != nil {
		return Floor{Err: fmt.Sprintf("floor %d MiB: %v in %q", mib, err, out)}
	}
	return f
}

// writeDataFile writes mib MiB of incompressible bytes to path for a
// filemap workload (xorshift64*, as workloads/common.h fills memory).
func writeDataFile(path string, mib int) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("data file %s: %w", path, err)
	}
	buf := make([]byte, 1<<20)
	x := uint64(0x9E3779B97F4A7C15)
	for i := 0; i < mib; i++ {
		for j := 0; j < len(buf); j += 8 {
			x ^= x >> 12
			x ^= x << 25
			x ^= x >> 27
			binary.LittleEndian.PutUint64(buf[j:], x*0x2545F4914F6CDD1D)
		}
		if _, err := f.Write(buf); err != nil {
			f.Close()
			return fmt.Errorf("data file %s: %w", path, err)
		}
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("data file %s: %w", path, err)
	}
	return nil
}
