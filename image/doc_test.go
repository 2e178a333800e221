package image

import (
	"fmt"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

const docPath = "../docs/image-format.md"

// docRow is one row of a field table: field, type, size (meaning is free text).
type docRow struct{ field, typ, size string }

// docSection is one `### NAME (type N)` or `#### struct Name` section.
type docSection struct {
	num int // -1 for a struct section
	// skippable: the heading says ", skippable"
	skippable bool
	line      int
	rows      []docRow
}

var (
	recordHeading = regexp.MustCompile(`^### ([A-Z_]+) \(type (0x[0-9a-f]+|\d+)(, skippable)?\)\s*$`)
	structHeading = regexp.MustCompile(`^#### struct ([A-Za-z]+)\s*$`)
	anyHeading    = regexp.MustCompile(`^#{1,4} `)
	tableHeader   = regexp.MustCompile(`^\|\s*field\s*\|\s*type\s*\|\s*size\s*\|\s*meaning\s*\|\s*$`)
)

// parseDoc returns the record sections by name and the struct sections by
// name, with problems found while parsing.
func parseDoc(text string) (recs, structs map[string]*docSection, problems []string) {
	recs, structs = map[string]*docSection{}, map[string]*docSection{}
	var cur *docSection
	inTable := false
	for i, line := range strings.Split(text, "\n") {
		ln := i + 1
		if m := recordHeading.FindStringSubmatch(line); m != nil {
			n64, _ := strconv.ParseInt(m[2], 0, 64)
			n := int(n64)
			if recs[m[1]] != nil {
				problems = append(problems, fmt.Sprintf("line %d: second section for %s", ln, m[1]))
			}
			cur, inTable = &docSection{num: n, line: ln, skippable: m[3] != ""}, false
			recs[m[1]] = cur
			continue
		}
		if m := structHeading.FindStringSubmatch(line); m != nil {
			if structs[m[1]] != nil {
				problems = append(problems, fmt.Sprintf("line %d: second section for struct %s", ln, m[1]))
			}
			cur, inTable = &docSection{num: -1, line: ln}, false
			structs[m[1]] = cur
			continue
		}
		if anyHeading.MatchString(line) {
			cur, inTable = nil, false
			continue
		}
		if cur == nil {
			continue
		}
		switch {
		case tableHeader.MatchString(line):
			if len(cur.rows) > 0 {
				problems = append(problems, fmt.Sprintf("line %d: second field table in one section", ln))
			}
			inTable = true
		case inTable && strings.HasPrefix(line, "|"):
			cells := strings.Split(strings.Trim(strings.TrimSpace(line), "|"), "|")
			if strings.Trim(cells[0], " -:") == "" {
				continue // the |---| line
			}
			if len(cells) != 4 {
				problems = append(problems, fmt.Sprintf("line %d: %d cells, want 4", ln, len(cells)))
				continue
			}
			clean := func(s string) string { return strings.TrimSpace(strings.ReplaceAll(s, "`", "")) }
			cur.rows = append(cur.rows, docRow{clean(cells[0]), clean(cells[1]), clean(cells[2])})
		default:
			inTable = false
		}
	}
	return recs, structs, problems
}

// docType is how the doc writes the type of a field: Go-like, with
// kernel-style integer names.
func docType(n *node) string {
	switch n.kind {
	case kindUint:
		return fmt.Sprintf("u%d", 8*n.size)
	case kindInt:
		return fmt.Sprintf("i%d", 8*n.size)
	case kindByteArray, kindArray:
		return fmt.Sprintf("[%d]%s", n.len, docType(n.elem))
	case kindStruct:
		return n.typ.Name()
	case kindString:
		return "string"
	case kindBytes:
		return "bytes"
	case kindSlice:
		return "[]" + docType(n.elem)
	}
	return "?"
}

func docSize(n *node) string {
	if n.variable() {
		return fmt.Sprintf("u32 count + N×%d", n.size)
	}
	return strconv.Itoa(n.size)
}

// checkRows compares a section's table with the fields of n (a struct).
func checkRows(what string, s *docSection, n *node, structs map[string]*node) []string {
	var problems []string
	var want []docRow
	for _, f := range n.fields {
		want = append(want, docRow{f.name, docType(f.node), docSize(f.node)})
		collectStructs(f.node, structs)
	}
	if len(s.rows) != len(want) {
		problems = append(problems, fmt.Sprintf("%s (line %d): %d fields in the doc, %d in Go", what, s.line, len(s.rows), len(want)))
	}
	for i := 0; i < min(len(s.rows), len(want)); i++ {
		if s.rows[i] != want[i] {
			problems = append(problems, fmt.Sprintf("%s (line %d): field %d is %+v in the doc, %+v in Go", what, s.line, i, s.rows[i], want[i]))
		}
	}
	return problems
}

func collectStructs(n *node, into map[string]*node) {
	switch n.kind {
	case kindStruct:
		into[n.typ.Name()] = n
		for _, f := range n.fields {
			collectStructs(f.node, into)
		}
	case kindArray, kindSlice:
		collectStructs(n.elem, into)
	}
}

// checkDoc returns every disagreement between the doc and the registry.
func checkDoc(text string) []string {
	recs, structs, problems := parseDoc(text)
	used := map[string]*node{}
	for _, ti := range registry {
		s := recs[ti.name]
		if s == nil {
			problems = append(problems, fmt.Sprintf("no section `### %s (type %d)`", ti.name, ti.typ))
			continue
		}
		if s.num != int(ti.typ) {
			problems = append(problems, fmt.Sprintf("line %d: %s is type %d, not %d", s.line, ti.name, ti.typ, s.num))
		}
		if s.skippable != ti.skippable {
			problems = append(problems, fmt.Sprintf("line %d: %s: the heading must say \", skippable\" exactly when the type is skippable", s.line, ti.name))
		}
		if ti.retired {
			continue
		}
		c := byGoType[typeOfRecord(ti)]
		problems = append(problems, checkRows(ti.name, s, c.root, used)...)
	}
	for name, s := range recs {
		if ti, ok := byType[Type(s.num)]; !ok || ti.name != name {
			problems = append(problems, fmt.Sprintf("line %d: section %s (type %d) is not in the registry", s.line, name, s.num))
		}
	}
	for name, n := range used {
		if s := structs[name]; s == nil {
			problems = append(problems, fmt.Sprintf("no section `#### struct %s`", name))
		} else {
			problems = append(problems, checkRows("struct "+name, s, n, map[string]*node{})...)
		}
	}
	for name, s := range structs {
		if used[name] == nil {
			problems = append(problems, fmt.Sprintf("line %d: struct %s is used by no record", s.line, name))
		}
	}
	// The numbers a reader depends on appear in the doc as defined here.
	for _, c := range []string{
		fmt.Sprintf("0x%016x", MagicHead), fmt.Sprintf("0x%016x", MagicTail), fmt.Sprintf("0x%08x", uint32(SkippableTypes)),
		strconv.Itoa(MaxPagesPerRecord), strconv.Itoa(MaxRecordLen), strconv.Itoa(MaxPlainRecordLen),
		fmt.Sprintf("Major %d", VersionMajor), fmt.Sprintf("Minor %d", VersionMinor),
	} {
		if !strings.Contains(text, c) {
			problems = append(problems, fmt.Sprintf("the doc does not mention %s", c))
		}
	}
	return problems
}

func TestDocMatchesRegistry(t *testing.T) {
	text, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range checkDoc(string(text)) {
		t.Error(p)
	}
}

// TestDocCheckerCatches makes sure checkDoc can fail: each edit of the
// real doc must be reported.
func TestDocCheckerCatches(t *testing.T) {
	b, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	edits := map[string]func(string) string{
		"section removed": func(s string) string { return strings.Replace(s, "### FD (type 302)", "### Fd things", 1) },
		"wrong number":    func(s string) string { return strings.Replace(s, "### FD (type 302)", "### FD (type 305)", 1) },
		"unknown section": func(s string) string { return s + "\n### FROB (type 999)\n" },
		"field renamed":   func(s string) string { return strings.Replace(s, "| Pgoff |", "| PgOff |", 1) },
		"fields swapped": func(s string) string {
			return strings.Replace(s, "| Start | u64 | 8 |", "| End | u64 | 8 |", 1)
		},
		"size changed": func(s string) string {
			return strings.Replace(s, "| Regs | [27]u64 | 216 |", "| Regs | [27]u64 | 208 |", 1)
		},
		"struct missing": func(s string) string { return strings.Replace(s, "#### struct Itimer", "#### Itimer", 1) },
	}
	for name, edit := range edits {
		changed := edit(text)
		if changed == text {
			t.Errorf("%s: the edit did not apply; update this test", name)
			continue
		}
		if len(checkDoc(changed)) == 0 {
			t.Errorf("%s: not reported", name)
		}
	}
}

func typeOfRecord(ti typeInfo) reflect.Type { return reflect.TypeOf(ti.new()) }
