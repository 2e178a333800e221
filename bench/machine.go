package bench

import (
	"bufio"
	"os"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Machine describes where the figures were measured.
type Machine struct {
	Nproc       int    `json:"nproc"`
	MemTotalKiB int64  `json:"mem_total_kib"`
	Kernel      string `json:"kernel"`
	CPU         string `json:"cpu"`
	OS          string `json:"os"`
	Go          string `json:"go"`
	// Notes are facts about the machine that bear on the figures.
	Notes []string `json:"notes,omitempty"`
}

// DescribeMachine reads the machine's description from /proc and uname.
func DescribeMachine() Machine {
	m := Machine{Nproc: runtime.NumCPU(), Go: runtime.Version()}
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		m.Kernel = unix.ByteSliceToString(u.Release[:]) + " " + unix.ByteSliceToString(u.Version[:])
	}
	m.CPU = procField("/proc/cpuinfo", "model name")
	if kb := procField("/proc/meminfo", "MemTotal"); kb != "" {
		m.MemTotalKiB, _ = strconv.ParseInt(strings.Fields(kb)[0], 10, 64)
	}
	if b, err := os.ReadFile("/etc/debian_version"); err == nil {
		m.OS = "Debian " + strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/proc/cmdline"); err == nil && strings.Contains(string(b), "page_reporting.page_reporting_order") {
		m.Notes = append(m.Notes, "virtual machine with virtio-balloon free page reporting "+
			"(free memory goes back to the host; see the floor's first-pass figures)")
	}
	if _, err := os.Stat("/sys/kernel/mm/transparent_hugepage/enabled"); err == nil {
		if b, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled"); err == nil {
			m.Notes = append(m.Notes, "transparent hugepages: "+strings.TrimSpace(string(b)))
		}
	}
	return m
}

// procField returns the value of the first "key: value" line of path.
func procField(path, key string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
