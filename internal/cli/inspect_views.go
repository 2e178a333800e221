package cli

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/ckpt/ckpt/oci/kubelet"
)

// withImage calls fn with the image arg names: a kubelet archive's
// checkpoint/image.ckpt (read straight out of the checked archive, which
// it returns), a file, a directory's image or stdin.
func withImage(c *ucli.Context, arg string, fn func(io.Reader) error) (*kubelet.Archive, error) {
	if arg != "-" && kubelet.IsArchive(arg) {
		a, err := kubelet.Open(arg, kubelet.Limits{Member: c.Int64("max-member-size")})
		if err != nil {
			return nil, err
		}
		if a.Member(kubelet.ImageMember) == nil {
			return a, fmt.Errorf("archive %s holds no %s: not a ckpt checkpoint (checkpointed by runc and CRIU? checkpointctl reads those)", arg, kubelet.ImageMember)
		}
		return a, a.Read(kubelet.ImageMember, fn)
	}
	in, err := openImage(arg)
	if err != nil {
		return nil, err
	}
	defer in.Close()
	return nil, fn(in)
}

// inspection is everything `ckpt inspect --format json` prints.
type inspection struct {
	Archive *archiveView `json:"archive,omitempty"`
	Image   *model       `json:"image"`
	Memory  []memMatch   `json:"memory,omitempty"`
}

type archiveView struct {
	Path           string           `json:"path"`
	Config         kubelet.Config   `json:"config"`
	Engine         string           `json:"engine"`
	CheckpointSize int64            `json:"checkpoint_size"`
	RootfsDiffSize int64            `json:"rootfs_diff_size"`
	Members        []kubelet.Member `json:"members"`
	Spec           json.RawMessage  `json:"spec,omitempty"`
}

type memMatch struct {
	Addr uint64 `json:"addr"`
	Hex  string `json:"hex"`
	Text string `json:"text"`
}

func inspectViews(c *ucli.Context, arg string) error {
	all := c.Bool("all")
	pid := int32(c.Int("pid"))
	memView := c.String("search") != "" || c.String("search-regex") != "" || c.Bool("hexdump")
	if memView && pid == 0 {
		return fmt.Errorf("--search, --search-regex and --hexdump need --pid PID (a task of the image)")
	}
	o := buildOpts{cmdline: all || c.Bool("ps-tree-cmd") || c.Bool("ps-tree-env") || c.String("format") == "json", mem: memView, memPid: pid}
	var m *model
	var mem []memRegion
	a, err := withImage(c, arg, func(r io.Reader) error {
		var err error
		m, mem, err = buildModel(r, o)
		return err
	})
	if err != nil {
		if m != nil && m.Header != nil {
			return ucli.Exit(fmt.Sprintf("image is damaged: %v", err), 2)
		}
		return err
	}
	if memView && m.byPid[pid] == nil {
		return fmt.Errorf("no task %d in the image", pid)
	}
	var matches []memMatch
	if c.String("search") != "" || c.String("search-regex") != "" {
		if matches, err = searchMem(mem, c.String("search"), c.String("search-regex"), c.Int("context")); err != nil {
			return err
		}
	}
	out := &inspection{Image: m, Memory: matches}
	if a != nil {
		out.Archive = &archiveView{Path: a.Path, Config: a.Config, Engine: a.Engine, CheckpointSize: a.CheckpointSize(),
			RootfsDiffSize: a.Size(kubelet.RootfsDiff), Members: a.Members, Spec: a.Spec}
	}
	switch c.String("format") {
	case "json":
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", " ")
		return enc.Encode(out)
	case "tree", "":
	default:
		return fmt.Errorf("--format %q: tree or json", c.String("format"))
	}
	w := os.Stdout
	views := false
	show := func(name string) bool {
		if all || c.Bool(name) {
			views = true
			return true
		}
		return false
	}
	summary(w, out)
	if show("ps-tree") || c.Bool("ps-tree-cmd") || c.Bool("ps-tree-env") {
		fmt.Fprintln(w, "\nProcess tree")
		for _, r := range m.roots() {
			psTree(w, r, "", true, all || c.Bool("ps-tree-cmd"), all || c.Bool("ps-tree-env"))
		}
	}
	if show("files") {
		filesView(w, m, false)
	}
	if show("sockets") {
		filesView(w, m, true)
	}
	if show("mounts") {
		mountsView(w, out)
	}
	if show("stats") {
		statsView(w, m)
	}
	if show("metadata") && out.Archive != nil {
		metadataView(w, out.Archive)
	}
	if c.Bool("hexdump") {
		fmt.Fprintf(w, "\nMemory of task %d in the image\n", pid)
		for _, r := range mem {
			fmt.Fprintf(w, "%#x-%#x\n", r.Vaddr, r.Vaddr+uint64(len(r.Data)))
			d := hex.Dumper(&offsetWriter{w: w, base: r.Vaddr})
			_, _ = d.Write(r.Data)
			d.Close()
		}
	}
	if matches != nil || c.String("search") != "" || c.String("search-regex") != "" {
		fmt.Fprintf(w, "\n%d matches in the memory of task %d\n", len(matches), pid)
		for _, mm := range matches {
			fmt.Fprintf(w, "%#x  %s\n            %q\n", mm.Addr, mm.Hex, mm.Text)
		}
	}
	_ = views
	return nil
}

// summary prints what checkpointctl show prints of an archive, then the
// image's processes.
func summary(w io.Writer, in *inspection) {
	m := in.Image
	if a := in.Archive; a != nil {
		fmt.Fprintf(w, "Container checkpoint %s\n\n", a.Path)
		tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
		fmt.Fprintln(tw, "CONTAINER\tIMAGE\tID\tRUNTIME\tCREATED\tCHECKPOINTED\tENGINE\tCHKPT SIZE\tROOT FS DIFF SIZE")
		img := a.Config.RootfsImageName
		if img == "" {
			img = a.Config.RootfsImage
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", containerName(a), img, short(a.Config.ID), a.Config.OCIRuntime,
			stamp(a.Config.CreatedTime), stamp(a.Config.CheckpointedAt), a.Engine, size(a.CheckpointSize), size(a.RootfsDiffSize))
		tw.Flush()
		fmt.Fprintln(w)
	}
	if m.Header != nil {
		fmt.Fprintf(w, "ckpt image, format %d.%d, %s, %d records\n", m.Header.Major, m.Header.Minor, size(m.Bytes), m.Records)
	}
	if ct := m.Container; ct != nil {
		fmt.Fprintf(w, "container %s (bundle %s, rootfs %s)\n", ct.ID, ct.Bundle, ct.Rootfs)
	}
	if s := m.Stats; s != nil {
		fmt.Fprintf(w, "%d tasks, %d threads, %d pages of memory (%s); frozen for %v, written in %v\n",
			s.Tasks, s.Threads, s.Pages, size(int64(s.Pages)*4096), time.Duration(s.FreezeNs).Round(time.Microsecond), time.Duration(s.TotalNs).Round(time.Microsecond))
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PID\tPPID\tCOMM\tSTATE\tTHREADS\tFDS\tMEMORY\tEXE")
	for _, t := range m.Tasks {
		fmt.Fprintf(tw, "%d\t%d\t%s\t%s\t%d\t%d\t%s\t%s\n", t.Pid, t.PPid, t.Comm, t.State, t.Threads, len(t.Fds), size(int64(t.MemPages)*4096), t.Exe)
	}
	tw.Flush()
}

func psTree(w io.Writer, t *taskView, prefix string, last, cmd, env bool) {
	branch, next := "├── ", "│   "
	if last {
		branch, next = "└── ", "    "
	}
	line := fmt.Sprintf("[%d] %s", t.Pid, t.Comm)
	if cmd && len(t.Cmdline) > 0 {
		line += "  " + quoteArgs(t.Cmdline)
	}
	fmt.Fprintln(w, prefix+branch+line)
	if env {
		for _, e := range t.Env {
			fmt.Fprintf(w, "%s%s  %s\n", prefix, next, e)
		}
	}
	sort.Slice(t.children, func(i, j int) bool { return t.children[i].Pid < t.children[j].Pid })
	for i, ch := range t.children {
		psTree(w, ch, prefix+next, i == len(t.children)-1, cmd, env)
	}
}

// quoteArgs renders a command line as a shell would take it.
func quoteArgs(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if a != "" && !strings.ContainsAny(a, " \t\n'\"\\$`;&|<>()*?[]#~!{}") {
			q[i] = a
		} else {
			q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(q, " ")
}

func filesView(w io.Writer, m *model, socketsOnly bool) {
	if socketsOnly {
		fmt.Fprintln(w, "\nSockets")
	} else {
		fmt.Fprintln(w, "\nOpen files")
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if socketsOnly {
		fmt.Fprintln(tw, "PID\tFD\tPROTO\tSTATE\tLOCAL\tPEER\tFLAGS")
	} else {
		fmt.Fprintln(tw, "PID\tFD\tKIND\tMODE\tFLAGS\tNAME")
	}
	for _, t := range m.Tasks {
		for _, f := range t.Fds {
			fl := f.Flags
			if f.Cloexec {
				fl += " (cloexec)"
			}
			if socketsOnly {
				if s := f.Socket; s != nil {
					fmt.Fprintf(tw, "%d\t%d\t%s\t%s\t%s\t%s\t%s\n", t.Pid, f.Fd, s.Proto, s.State, s.Local, s.Peer, fl)
				} else if strings.Contains(f.Kind, "socket") {
					fmt.Fprintf(tw, "%d\t%d\t%s\t\t%s\t\t%s\n", t.Pid, f.Fd, f.Kind, f.Name, fl)
				}
				continue
			}
			fmt.Fprintf(tw, "%d\t%d\t%s\t%s\t%s\t%s\n", t.Pid, f.Fd, f.Kind, f.Mode, fl, f.Name)
		}
	}
	tw.Flush()
}

func mountsView(w io.Writer, in *inspection) {
	fmt.Fprintln(w, "\nMounts")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "DESTINATION\tTYPE\tSOURCE\tOPTIONS")
	if in.Archive != nil && in.Archive.Spec != nil {
		var spec struct {
			Mounts []struct {
				Destination string   `json:"destination"`
				Type        string   `json:"type"`
				Source      string   `json:"source"`
				Options     []string `json:"options"`
			} `json:"mounts"`
		}
		if json.Unmarshal(in.Archive.Spec, &spec) == nil {
			for _, mt := range spec.Mounts {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", mt.Destination, mt.Type, mt.Source, strings.Join(mt.Options, ","))
			}
		}
	}
	for _, mt := range in.Image.Mounts {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s (in the image)\n", mt.MountPoint, mt.FsType, mt.Source, mt.SuperOpts)
	}
	tw.Flush()
}

func statsView(w io.Writer, m *model) {
	fmt.Fprintln(w, "\nCheckpoint statistics")
	s := m.Stats
	if s == nil {
		fmt.Fprintln(w, "  none in the image")
		return
	}
	fmt.Fprintf(w, "  tasks frozen for   %v\n  checkpoint took    %v\n  tasks              %d\n  threads            %d\n  memory pages       %d (%s)\n  image size         %s\n",
		time.Duration(s.FreezeNs), time.Duration(s.TotalNs), s.Tasks, s.Threads, s.Pages, size(int64(s.Pages)*4096), size(m.Bytes))
}

func metadataView(w io.Writer, a *archiveView) {
	fmt.Fprintln(w, "\nMetadata (config.dump)")
	c := a.Config
	for _, kv := range [][2]string{{"id", c.ID}, {"name", c.Name}, {"image", c.RootfsImageName}, {"image ref", c.RootfsImageRef},
		{"runtime", c.OCIRuntime}, {"created", stamp(c.CreatedTime)}, {"checkpointed", stamp(c.CheckpointedAt)}} {
		if kv[1] != "" {
			fmt.Fprintf(w, "  %-13s %s\n", kv[0], kv[1])
		}
	}
	var spec struct {
		Annotations map[string]string `json:"annotations"`
	}
	if a.Spec != nil && json.Unmarshal(a.Spec, &spec) == nil && len(spec.Annotations) > 0 {
		fmt.Fprintln(w, "Annotations (spec.dump)")
		keys := make([]string, 0, len(spec.Annotations))
		for k := range spec.Annotations {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(w, "  %s=%s\n", k, spec.Annotations[k])
		}
	}
	fmt.Fprintln(w, "Members")
	for _, mb := range a.Members {
		if mb.Dir {
			fmt.Fprintf(w, "  %s/\n", mb.Name)
		} else {
			fmt.Fprintf(w, "  %-24s %04o %s\n", mb.Name, mb.Mode&0o7777, size(mb.Size))
		}
	}
}

// searchMem finds a string or a regular expression in the memory kept.
func searchMem(mem []memRegion, s, re string, ctx int) ([]memMatch, error) {
	var rx *regexp.Regexp
	if re != "" {
		var err error
		if rx, err = regexp.Compile(re); err != nil {
			return nil, fmt.Errorf("--search-regex: %w", err)
		}
	}
	ctx = max(0, min(ctx, 4096))
	var out []memMatch
	for _, r := range mem {
		var locs [][]int
		if rx != nil {
			locs = rx.FindAllIndex(r.Data, 1000)
		} else {
			for off := 0; ; {
				i := strings.Index(string(r.Data[off:]), s)
				if i < 0 || len(locs) >= 1000 {
					break
				}
				locs = append(locs, []int{off + i, off + i + len(s)})
				off += i + max(1, len(s))
			}
		}
		for _, l := range locs {
			lo, hi := max(0, l[0]-ctx), min(len(r.Data), l[1]+ctx)
			out = append(out, memMatch{Addr: r.Vaddr + uint64(l[0]), Hex: hex.EncodeToString(r.Data[l[0]:l[1]]), Text: string(r.Data[lo:hi])})
		}
	}
	return out, nil
}

// offsetWriter rewrites hex.Dumper's offsets into addresses.
type offsetWriter struct {
	w    io.Writer
	base uint64
	line uint64
	mid  bool
}

func (o *offsetWriter) Write(p []byte) (int, error) {
	// hex.Dumper writes each line in pieces; the offset starts a line.
	for _, l := range strings.SplitAfter(string(p), "\n") {
		if l == "" {
			continue
		}
		if !o.mid && len(l) >= 8 {
			l = fmt.Sprintf("%016x", o.base+o.line*16) + l[8:]
			o.line++
		}
		o.mid = !strings.HasSuffix(l, "\n")
		if _, err := io.WriteString(o.w, l); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// containerName is the container's name in its pod (the spec's
// annotation, containerd's or CRI-O's), else config.dump's.
func containerName(a *archiveView) string {
	var spec struct {
		Annotations map[string]string `json:"annotations"`
	}
	if a.Spec != nil && json.Unmarshal(a.Spec, &spec) == nil {
		for _, k := range []string{"io.kubernetes.cri.container-name", "io.kubernetes.container.name"} {
			if n := spec.Annotations[k]; n != "" {
				return n
			}
		}
	}
	return a.Config.Name
}

func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func size(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// inspectList lists the checkpoint archives of a directory.
func inspectList(c *ucli.Context, args []string) error {
	dir := kubelet.DefaultDirectory
	if len(args) > 1 {
		return fmt.Errorf("inspect list takes one directory")
	}
	if len(args) == 1 {
		dir = args[0]
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 3, ' ', 0)
	fmt.Fprintln(tw, "ARCHIVE\tCONTAINER\tIMAGE\tRUNTIME\tCHECKPOINTED\tSIZE")
	for _, e := range ents {
		p := filepath.Join(dir, e.Name())
		if !e.Type().IsRegular() || !kubelet.IsArchive(p) {
			continue
		}
		a, err := kubelet.Open(p, kubelet.Limits{Member: c.Int64("max-member-size")})
		if err != nil {
			fmt.Fprintf(tw, "%s\t(refused: %v)\t\t\t\t\n", e.Name(), err)
			continue
		}
		fi, _ := e.Info()
		var sz int64
		if fi != nil {
			sz = fi.Size()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", e.Name(), a.Config.Name, a.Config.RootfsImageName, a.Config.OCIRuntime, stamp(a.Config.CheckpointedAt), size(sz))
	}
	return tw.Flush()
}
