package runtime

import (
	"encoding/json"
	"fmt"
	"io"

	"time"

	"github.com/opencontainers/cgroups"
)

// Pause freezes every process of the container (cgroup freezer).
func (r *Runtime) Pause(id string) error {
	c, err := r.Load(id)
	if err != nil {
		return err
	}
	if err := c.Pause(); err != nil {
		return fmt.Errorf("container %s: pause: %w", id, err)
	}
	return nil
}

// Resume thaws a paused container.
func (r *Runtime) Resume(id string) error {
	c, err := r.Load(id)
	if err != nil {
		return err
	}
	if err := c.Resume(); err != nil {
		return fmt.Errorf("container %s: resume: %w", id, err)
	}
	return nil
}

// Event is one line of `events`.
type Event struct {
	Type string `json:"type"`
	ID   string `json:"id"`
	Data any    `json:"data,omitempty"`
}

// Events writes the container's statistics as JSON lines: once with once,
// else every interval until the container stops or the write fails.
func (r *Runtime) Events(id string, w io.Writer, interval time.Duration, once bool) error {
	c, err := r.Load(id)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(w)
	for {
		st, err := c.Stats()
		if err != nil {
			return fmt.Errorf("container %s: stats: %w", id, err)
		}
		var data *cgroups.Stats
		if st != nil {
			data = st.CgroupStats
		}
		if err := enc.Encode(Event{Type: "stats", ID: id, Data: data}); err != nil {
			return err
		}
		if once {
			return nil
		}
		time.Sleep(interval)
	}
}
