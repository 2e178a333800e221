package restore

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
)

func init() {
	registerKind(kind{name: "ping group range", takes: []taker{on((*restorer).handlePingRange)}})
}

// pingRangeFile is net.ipv4.ping_group_range: the file shows and sets the
// value of the network namespace of whoever opens it.
const pingRangeFile = "/proc/sys/net/ipv4/ping_group_range"

// handlePingRange takes the PING_RANGE that follows the NETNS: the new
// namespace gets the range of groups that may make ICMP sockets.
func (rs *restorer) handlePingRange(r *image.PingRange) error {
	if rs.netNs == nil || rs.cur != nil || rs.pingRange {
		return badImage("PING_RANGE out of place: it follows the NETNS, once")
	}
	// The kernel takes at most INT_MAX (net/ipv4/sysctl_net_ipv4.c
	// ipv4_ping_group_range: GID_T_MAX); a low above the high is its
	// "no group".
	if r.Low > 1<<31-1 || r.High > 1<<31-1 {
		return badImage("PING_RANGE %d-%d: beyond %d", r.Low, r.High, 1<<31-1)
	}
	rs.pingRange = true
	err := inNamespace(rs.netNs, unix.CLONE_NEWNET, func() error {
		return os.WriteFile(pingRangeFile, fmt.Appendf(nil, "%d %d", r.Low, r.High), 0)
	})
	if err != nil {
		return fmt.Errorf("network namespace: ping_group_range %d %d: %w", r.Low, r.High, err)
	}
	return nil
}

// pingRangeOf reads the ping_group_range of the network namespace of the
// task whose pid (in our pid namespace) is pid.
func pingRangeOf(pid int) (lo, hi uint32, err error) {
	ns, err := os.Open(fmt.Sprintf("/proc/%d/ns/net", pid))
	if err != nil {
		return 0, 0, err
	}
	defer ns.Close()
	err = inNamespace(ns, unix.CLONE_NEWNET, func() error {
		b, err := os.ReadFile(pingRangeFile)
		if err != nil {
			return err
		}
		if _, err := fmt.Sscan(string(b), &lo, &hi); err != nil {
			return fmt.Errorf("%s %q: %w", pingRangeFile, b, err)
		}
		return nil
	})
	return lo, hi, err
}
