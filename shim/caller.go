package shim

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/containerd/containerd/api/types/runc/options"
)

// Which client asked for a checkpoint, when the request carries no
// options. containerd's clients send runc CheckpointOptions only to
// runc's runtime type (io.containerd.runc.v2): ctr always sends them (its
// --exit is their Exit), but the CRI plugin (the kubelet's checkpoint
// API) and nerdctl send none to any other runtime, ours included. Both go
// through containerd's client, which pauses the task around the
// checkpoint either way, so the pause tells them apart no more than the
// options do. What does is the container's spec: each puts its own
// annotations there.
//
// The rule, for a request without options:
//   - a spec with nerdctl's annotations (nerdctl/…): nerdctl's
//     `checkpoint create` without --leave-running, which stops the
//     container (runc's CheckpointOptions{Exit: true}, as nerdctl sends
//     runc). nerdctl's --leave-running does not reach a runtime other
//     than runc's: run the container on runc's shim with ckpt as its
//     binary (`nerdctl run --runtime /path/to/ckpt`) to have it honoured;
//   - anything else (the CRI's io.kubernetes.cri.* annotations, a
//     forensic checkpoint that must leave the pod running; containerd's
//     client used directly): the container keeps running.
//
// A request with options is taken as it says, whoever sent it.

// callerKind is what the shim knows of a container's client.
type callerKind int

const (
	callerOther callerKind = iota
	callerNerdctl
	callerCRI
)

func (k callerKind) String() string {
	switch k {
	case callerNerdctl:
		return "nerdctl"
	case callerCRI:
		return "CRI"
	}
	return "other"
}

// nerdctlAnnotationPrefix and criAnnotationPrefix begin the annotations
// nerdctl and containerd's CRI plugin put in every container's spec.
const (
	nerdctlAnnotationPrefix = "nerdctl/"
	criAnnotationPrefix     = "io.kubernetes.cri."
)

// callerOf reads the client's kind from a bundle's config.json.
func callerOf(bundle string) (callerKind, error) {
	b, err := os.ReadFile(filepath.Join(bundle, "config.json"))
	if err != nil {
		return callerOther, err
	}
	var spec struct {
		Annotations map[string]string `json:"annotations"`
	}
	if err := json.Unmarshal(b, &spec); err != nil {
		return callerOther, fmt.Errorf("%s/config.json: %w", bundle, err)
	}
	kind := callerOther
	for k := range spec.Annotations {
		switch {
		case strings.HasPrefix(k, criAnnotationPrefix):
			// The CRI's wins: a pod's container made by whatever
			// client is the kubelet's to checkpoint.
			return callerCRI, nil
		case strings.HasPrefix(k, nerdctlAnnotationPrefix):
			kind = callerNerdctl
		}
	}
	return kind, nil
}

// defaultCheckpointOptions are the options a checkpoint request without
// any stands for, by the rule above.
func defaultCheckpointOptions(kind callerKind) *options.CheckpointOptions {
	return &options.CheckpointOptions{Exit: kind == callerNerdctl}
}
