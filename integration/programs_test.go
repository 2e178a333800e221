package integration

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
)

// program is one C/R test program of test/zdtm in one build flavour.
type program struct {
	group  string // static, transition, go, py
	name   string // env00, counter, ...
	static bool   // the -static build of a C program
	kind   string // c, go, py
	src    string // the .c or .py file, or the Go package directory
	desc   desc
}

// desc is a program's optional .desc file (JSON) beside its source.
type desc struct {
	// Flags: crfail (checkpoint must be refused and the test keep
	// running), noauto (run only with ZDTM_NOAUTO=1), excl (must run
	// alone; the suite is sequential anyway), static-only (no dynamic
	// build), nolr (not in the lr mode: killing the original after a
	// --leave-running checkpoint is seen by a peer outside).
	Flags []string `json:"flags"`
	// Presig is a signal the runner sends before SIGTERM (pause00).
	Presig string `json:"presig"`
	// SkipCheck names outside checks that do not apply (maps, fds, cwd,
	// status), for programs whose runtime changes them as it runs.
	SkipCheck []string `json:"skipcheck"`
	// Opts are extra command line options.
	Opts []string `json:"opts"`
	// CkptOpts are extra options given to both `ckpt checkpoint` and
	// `ckpt restore` (--file-locks, --tcp-established...).
	CkptOpts []string `json:"ckpt_opts"`
	// Progress is a file in the test directory that must keep growing
	// after restore.
	Progress string `json:"progress"`
	// Flavor is how the program runs: host (the default) or ns, as pid 1
	// of a new pid namespace (see ns_test.go).
	Flavor string `json:"flavor"`
	// Refusal lists words one of which a crfail program's refused
	// checkpoint must say: the object it refuses (a leak test's mm, fd
	// table, ...).
	Refusal []string `json:"refusal"`
}

func (d desc) has(flag string) bool    { return slices.Contains(d.Flags, flag) }
func (d desc) skips(check string) bool { return slices.Contains(d.SkipCheck, check) }
func (p *program) id() string          { return p.group + "/" + p.leaf() }

func (p *program) leaf() string {
	if p.static {
		return p.name + "-static"
	}
	return p.name
}

func readDesc(path string) (desc, error) {
	var d desc
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return d, nil
	}
	if err != nil {
		return d, err
	}
	if err := json.Unmarshal(b, &d); err != nil {
		return d, fmt.Errorf("parse %s: %w", path, err)
	}
	return d, nil
}

// discoverPrograms lists every program under test/zdtm, sorted by id.
func discoverPrograms() ([]*program, error) {
	base := filepath.Join(repoRoot, "test", "zdtm")
	var progs []*program
	for _, group := range []string{"static", "transition"} {
		srcs, err := filepath.Glob(filepath.Join(base, group, "*.c"))
		if err != nil {
			return nil, err
		}
		for _, src := range srcs {
			name := strings.TrimSuffix(filepath.Base(src), ".c")
			d, err := readDesc(strings.TrimSuffix(src, ".c") + ".desc")
			if err != nil {
				return nil, err
			}
			if !d.has("static-only") {
				progs = append(progs, &program{group: group, name: name, kind: "c", src: src, desc: d})
			}
			progs = append(progs, &program{group: group, name: name, static: true, kind: "c", src: src, desc: d})
		}
	}
	mains, err := filepath.Glob(filepath.Join(base, "go", "*", "main.go"))
	if err != nil {
		return nil, err
	}
	for _, m := range mains {
		dir := filepath.Dir(m)
		name := filepath.Base(dir)
		d, err := readDesc(filepath.Join(dir, name+".desc"))
		if err != nil {
			return nil, err
		}
		progs = append(progs, &program{group: "go", name: name, kind: "go", src: dir, desc: d})
	}
	pys, err := filepath.Glob(filepath.Join(base, "py", "*.py"))
	if err != nil {
		return nil, err
	}
	for _, src := range pys {
		name := strings.TrimSuffix(filepath.Base(src), ".py")
		d, err := readDesc(strings.TrimSuffix(src, ".py") + ".desc")
		if err != nil {
			return nil, err
		}
		progs = append(progs, &program{group: "py", name: name, kind: "py", src: src, desc: d})
	}
	sort.Slice(progs, func(i, j int) bool { return progs[i].id() < progs[j].id() })
	for _, p := range progs {
		if err := checkFlavor(p); err != nil {
			return nil, err
		}
	}
	return progs, nil
}

// buildCache compiles each program once per test run, into one temporary
// directory.
type buildCache struct {
	dir   string
	progs []*program
	mu    sync.Mutex
	m     map[string]*buildResult
}

type buildResult struct {
	once sync.Once
	argv []string
	err  error
}

var builds buildCache

func initBuilds() error {
	dir, err := os.MkdirTemp("", "ckpt-zdtm-bin-")
	if err != nil {
		return err
	}
	builds = buildCache{dir: dir, m: map[string]*buildResult{}}
	if builds.progs, err = discoverPrograms(); err != nil {
		return err
	}
	// A full run needs every program: compile them all in parallel up
	// front. A run narrowed with -run builds only what it uses, and
	// noauto programs are built only when they are to run.
	if f := flag.Lookup("test.run"); f == nil || f.Value.String() == "" {
		sem := make(chan struct{}, runtime.NumCPU())
		for _, p := range builds.progs {
			if p.desc.has("noauto") && os.Getenv("ZDTM_NOAUTO") != "1" {
				continue
			}
			go func() {
				sem <- struct{}{}
				defer func() { <-sem }()
				builds.command(p)
			}()
		}
	}
	return nil
}

func (b *buildCache) cleanup() { os.RemoveAll(b.dir) }

func (b *buildCache) find(id string) *program {
	for _, p := range b.progs {
		if p.id() == id {
			return p
		}
	}
	return nil
}

// command returns the argv that starts p, building it on first use.
func (b *buildCache) command(p *program) ([]string, error) {
	b.mu.Lock()
	r := b.m[p.id()]
	if r == nil {
		r = &buildResult{}
		b.m[p.id()] = r
	}
	b.mu.Unlock()
	r.once.Do(func() { r.argv, r.err = b.build(p) })
	return r.argv, r.err
}

func (b *buildCache) build(p *program) ([]string, error) {
	out := filepath.Join(b.dir, strings.ReplaceAll(p.id(), "/", "_"))
	var cmd *exec.Cmd
	switch p.kind {
	case "c":
		lib := filepath.Join(repoRoot, "test", "zdtm", "lib")
		libSrcs, err := filepath.Glob(filepath.Join(lib, "*.c"))
		if err != nil {
			return nil, err
		}
		args := append([]string{"-O2", "-Wall", "-Werror", "-I", lib, "-o", out, p.src}, libSrcs...)
		if p.static {
			args = append([]string{"-static"}, args...)
		}
		cmd = exec.Command("gcc", args...)
	case "go":
		gocmd, err := goTool()
		if err != nil {
			return nil, err
		}
		cmd = exec.Command(gocmd, "build", "-o", out, ".")
		cmd.Dir = p.src
	case "py":
		py := "/usr/bin/python3"
		if _, err := os.Stat(py); err != nil {
			if py, err = exec.LookPath("python3"); err != nil {
				return nil, fmt.Errorf("no python3 for %s: %w", p.id(), err)
			}
		}
		return []string{py, p.src}, nil
	default:
		return nil, fmt.Errorf("program %s: unknown kind %q", p.id(), p.kind)
	}
	if msg, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build %s: %s: %w\n%s", p.id(), strings.Join(cmd.Args, " "), err, msg)
	}
	return []string{out}, nil
}
