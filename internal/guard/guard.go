// Package guard undoes what a checkpoint or restore did to other processes
// when ckpt itself dies before it could undo it (SIGKILL, the OOM killer, a
// panic): a cgroup left frozen, a connection left locked or in TCP repair
// mode, a copy-on-write snapshot child, half-restored tasks, a container's
// state half made.
//
// Each run starts a guardian: ckpt's own executable re-executed under the
// name "ckpt-guardian" (Main recognises it), in a session of its own,
// ignoring the signals a terminal or a parent sends to a group. The run
// writes a journal to it over a pipe as it goes: "undo X" before it does
// something that needs undoing, "drop" once it has undone it (or once the
// thing is meant to stay: an image committed), and "done" at its end. If
// the pipe reaches end-of-file without "done" (the kernel closes the write
// end when ckpt dies, however it dies), the guardian runs the undos still
// in the journal, newest first, and exits.
//
// The actions are registered by the packages that know them (Register):
// the journal only names them, with string arguments.
package guard

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// guardianName is argv[0] of the guardian process.
const guardianName = "ckpt-guardian"

// Action undoes one thing, given the arguments its journal entry was
// written with. It runs in the guardian, after ckpt is gone.
type Action func(args []string) error

var actions = map[string]Action{}

// Register makes an action known to the guardian; packages call it from
// init, so that the guardian (the same executable) has all of them.
func Register(name string, a Action) {
	if _, dup := actions[name]; dup {
		panic("guard: action " + name + " registered twice")
	}
	actions[name] = a
}

func init() {
	Register("kill", killAction)
}

// entry is one line of the journal.
type entry struct {
	Op   string   `json:"op"` // "undo", "drop", "done"
	ID   int      `json:"id,omitempty"`
	Act  string   `json:"act,omitempty"`
	Args []string `json:"args,omitempty"`
}

// Journal is a run's end of the pipe to its guardian. A nil *Journal does
// nothing (a run whose caller owns the journal passes its own).
type Journal struct {
	mu   sync.Mutex
	w    *os.File
	enc  *json.Encoder
	cmd  *exec.Cmd
	next int
	err  error
	done bool
}

// Undo is a journal entry, to Drop once its undo is no longer wanted.
type Undo struct {
	j  *Journal
	id int
}

// Start starts a guardian for one run.
func Start() (*Journal, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("start guardian: %w", err)
	}
	defer r.Close()
	cmd := &exec.Cmd{
		// Our own executable, even if its file was replaced meanwhile.
		Path:       "/proc/self/exe",
		Args:       []string{guardianName},
		Stderr:     os.Stderr,
		ExtraFiles: []*os.File{r},
		// Its own session: a terminal's ^C or hang-up, or a kill of
		// ckpt's process group, must not take the guardian with it.
		SysProcAttr: &unix.SysProcAttr{Setsid: true},
	}
	if err := cmd.Start(); err != nil {
		w.Close()
		return nil, fmt.Errorf("start guardian: %w", err)
	}
	return &Journal{w: w, enc: json.NewEncoder(w), cmd: cmd}, nil
}

func (j *Journal) send(e entry) error {
	if j.err != nil {
		return j.err
	}
	if err := j.enc.Encode(e); err != nil {
		j.err = fmt.Errorf("guardian journal: %w", err)
	}
	return j.err
}

// Add records how to undo what the run is about to do. It fails only if
// the guardian is gone: then the run must not go on.
func (j *Journal) Add(act string, args ...string) (Undo, error) {
	if j == nil {
		return Undo{}, nil
	}
	if _, ok := actions[act]; !ok {
		panic("guard: unknown action " + act)
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	j.next++
	return Undo{j: j, id: j.next}, j.send(entry{Op: "undo", ID: j.next, Act: act, Args: args})
}

// Drop removes the entry: its undo was done, or is no longer wanted.
func (u Undo) Drop() {
	if u.j == nil || u.id == 0 {
		return
	}
	u.j.mu.Lock()
	defer u.j.mu.Unlock()
	_ = u.j.send(entry{Op: "drop", ID: u.id})
}

// Done ends the run: the guardian exits without undoing anything. The run
// has either finished or undone everything itself.
func (j *Journal) Done() {
	if j == nil {
		return
	}
	j.mu.Lock()
	if j.done {
		j.mu.Unlock()
		return
	}
	j.done = true
	_ = j.send(entry{Op: "done"})
	j.w.Close()
	j.err = errors.New("guardian journal: the run is done")
	j.mu.Unlock()
	_ = j.cmd.Wait()
}

// Main runs the guardian and exits if this process is one; otherwise it
// returns at once. A program whose runs use Start calls it first thing.
func Main() {
	if filepath.Base(os.Args[0]) != guardianName {
		return
	}
	os.Exit(guardian(os.NewFile(3, "journal")))
}

func guardian(in *os.File) int {
	// Whatever a shell or a supervisor sends its group, the journal's end
	// is what ends the guardian.
	signal.Ignore(unix.SIGINT, unix.SIGTERM, unix.SIGHUP, unix.SIGQUIT, unix.SIGPIPE, unix.SIGTSTP, unix.SIGTTIN, unix.SIGTTOU)
	log := slog.New(slog.NewTextHandler(os.Stderr, nil)).With("component", "guardian", "ckpt", os.Getppid())
	var undos []entry
	pending := map[int]bool{}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		var e entry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			log.Error("unreadable journal entry", "err", err)
			continue
		}
		switch e.Op {
		case "done":
			return 0
		case "undo":
			if e.Act == "kill" {
				// Pin the task now, while it is ckpt's: by the time
				// the undo runs its pid could be another's.
				e.Args = pinTask(e.Args)
			}
			undos = append(undos, e)
			pending[e.ID] = true
		case "drop":
			delete(pending, e.ID)
		}
	}
	if len(pending) == 0 {
		return 0
	}
	log.Warn("ckpt ended without finishing its run: undoing what it left", "undos", len(pending))
	failed := 0
	for i := len(undos) - 1; i >= 0; i-- {
		e := undos[i]
		if !pending[e.ID] {
			continue
		}
		start := time.Now()
		if err := actions[e.Act](e.Args); err != nil {
			log.Error("undo failed", "action", e.Act, "args", e.Args, "err", err)
			failed++
			continue
		}
		log.Info("undone", "action", e.Act, "args", e.Args, "took", time.Since(start))
	}
	if failed > 0 {
		return 1
	}
	return 0
}

// KillTask journals killing pid if the run does not finish.
func (j *Journal) KillTask(pid int) (Undo, error) {
	return j.Add("kill", strconv.Itoa(pid))
}

// pidfds opened by pinTask, by the journal's argument that names them.
var pidfds = map[string]int{}

// pinTask opens a pidfd of the task the kill entry names.
func pinTask(args []string) []string {
	if len(args) != 1 {
		return args
	}
	pid, err := strconv.Atoi(args[0])
	if err != nil || pid <= 0 {
		return args
	}
	if fd, err := unix.PidfdOpen(pid, 0); err == nil {
		pidfds[args[0]] = fd
	}
	return args
}

// killAction kills a task through the pidfd opened when its entry came,
// so that a pid used again meanwhile is not hit. A task already gone is
// no error.
func killAction(args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("kill: want a pid, got %q", args)
	}
	fd, ok := pidfds[args[0]]
	if !ok {
		return nil // gone before the guardian saw it
	}
	delete(pidfds, args[0])
	defer unix.Close(fd)
	if err := unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0); err != nil && !errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("kill task %s: %w", args[0], err)
	}
	return nil
}
