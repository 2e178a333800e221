package checkpoint

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/proc"
)

// stateDoc is the inventory of kernel state; its rows say what checkpoint
// and restore do with each piece, and which tests prove it.
const stateDoc = "../docs/state.md"

// stateRow is one row of a five-column table of docs/state.md.
type stateRow struct {
	line                      int
	state, shows, status, how string
	tests                     []string
}

var stateStatuses = []string{"saved", "refused", "reset", "gap", "n/a"}

// parseStateDoc returns the rows of every table whose header is
// | state | where it shows | status | record, refusal or reason | tests |.
func parseStateDoc(t *testing.T) ([]stateRow, string) {
	t.Helper()
	b, err := os.ReadFile(stateDoc)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	header := regexp.MustCompile(`^\|\s*state\s*\|\s*where it shows\s*\|\s*status\s*\|\s*record, refusal or reason\s*\|\s*tests\s*\|\s*$`)
	var rows []stateRow
	in := false
	for i, line := range strings.Split(text, "\n") {
		switch {
		case header.MatchString(line):
			in = true
			continue
		case !strings.HasPrefix(line, "|"):
			in = false
			continue
		case !in:
			continue
		}
		cells := strings.Split(strings.Trim(strings.TrimSpace(line), "|"), "|")
		if strings.Trim(cells[0], " -:") == "" {
			continue // the |---| line
		}
		if len(cells) != 5 {
			t.Errorf("%s:%d: %d cells, want 5", stateDoc, i+1, len(cells))
			continue
		}
		for j := range cells {
			cells[j] = strings.TrimSpace(cells[j])
		}
		r := stateRow{line: i + 1, state: cells[0], shows: cells[1], status: cells[2], how: cells[3]}
		if cells[4] != "—" && cells[4] != "" {
			for _, name := range strings.Split(cells[4], ",") {
				r.tests = append(r.tests, strings.TrimSpace(name))
			}
		}
		rows = append(rows, r)
	}
	return rows, text
}

// zdtmPrograms lists every program of test/zdtm as DIR/NAME.
func zdtmPrograms(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, dir := range []string{"static", "transition", "py", "go"} {
		ents, err := os.ReadDir(filepath.Join("../test/zdtm", dir))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			name := e.Name()
			switch {
			case dir == "go" && e.IsDir():
			case strings.HasSuffix(name, ".c") && dir != "py" && dir != "go":
				name = strings.TrimSuffix(name, ".c")
			case strings.HasSuffix(name, ".py") && dir == "py":
				name = strings.TrimSuffix(name, ".py")
			default:
				continue
			}
			out = append(out, dir+"/"+name)
		}
	}
	return out
}

// TestStateDocInStep checks docs/state.md against the code: each row has
// a known status; a saved row names at least one test and a refused one
// its reason; every test named exists; every zdtm program is named; every
// record type of the image format and every smaps VmFlags code the
// parser knows has its row.
func TestStateDocInStep(t *testing.T) {
	rows, text := parseStateDoc(t)
	if len(rows) < 100 {
		t.Fatalf("%s: only %d rows: is the table header still the one this test parses?", stateDoc, len(rows))
	}
	programs := zdtmPrograms(t)
	var goTests []string
	files, _ := filepath.Glob("../integration/*_test.go")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range regexp.MustCompile(`(?m)^func (Test\w+)\(`).FindAllStringSubmatch(string(b), -1) {
			goTests = append(goTests, m[1])
		}
	}
	named := map[string]bool{}
	for _, r := range rows {
		at := func(format string, args ...any) {
			t.Helper()
			t.Errorf("%s:%d (%s): "+format, append([]any{stateDoc, r.line, r.state}, args...)...)
		}
		if !slices.Contains(stateStatuses, r.status) {
			at("status %q, want one of %v", r.status, stateStatuses)
		}
		if r.status == "saved" && len(r.tests) == 0 {
			at("saved, but no test proves it: name one, or mark the row gap")
		}
		if (r.status == "refused" || r.status == "reset") && r.how == "" {
			at("%s without the message or the reason", r.status)
		}
		for _, name := range r.tests {
			named[name] = true
			switch {
			case strings.HasPrefix(name, "Test"):
				if !slices.Contains(goTests, name) {
					at("names %s, which integration/ does not define", name)
				}
			case !slices.Contains(programs, name):
				at("names %q, which is no program of test/zdtm", name)
			}
		}
	}
	for _, p := range programs {
		if !named[p] {
			t.Errorf("%s: test program %s is named by no row: say what state it proves", stateDoc, p)
		}
	}
	for n := image.Type(1); n < 1024; n++ {
		if name := n.String(); !strings.HasPrefix(name, "UNKNOWN") && !regexp.MustCompile(`\b`+name+`\b`).MatchString(text) {
			t.Errorf("%s: record type %s (%d) is named by no row", stateDoc, name, n)
		}
	}
	if name := image.TypeStats.String(); !strings.Contains(text, name) {
		t.Errorf("%s: record type %s is named by no row", stateDoc, name)
	}
	for _, code := range proc.VmFlagCodes() {
		if !regexp.MustCompile(`VmFlags [a-z, ]*\b` + code + `\b`).MatchString(text) {
			t.Errorf("%s: smaps VmFlags code %q has no row", stateDoc, code)
		}
	}
}
