package sysvipc

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Rows reads /proc/sysvipc/NAME (shm, sem or msg), which shows the IPC
// namespace of the thread that opens it, as rows of fields, the header
// line dropped.
func Rows(name string) ([][]string, error) {
	f, err := os.Open("/proc/sysvipc/" + name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var rows [][]string
	sc := bufio.NewScanner(f)
	for first := true; sc.Scan(); first = false {
		if !first {
			rows = append(rows, strings.Fields(sc.Text()))
		}
	}
	return rows, sc.Err()
}

// Nums parses the fields of a /proc/sysvipc row at the given indexes:
// decimal, except the permissions (index 2), which are octal.
func Nums(row []string, idx ...int) ([]int64, error) {
	out := make([]int64, len(idx))
	for i, k := range idx {
		if k >= len(row) {
			return nil, fmt.Errorf("short /proc/sysvipc row %q", row)
		}
		base := 10
		if k == 2 {
			base = 8
		}
		v, err := strconv.ParseInt(row[k], base, 64)
		if err != nil {
			return nil, fmt.Errorf("/proc/sysvipc row %q: %w", row, err)
		}
		out[i] = v
	}
	return out, nil
}
