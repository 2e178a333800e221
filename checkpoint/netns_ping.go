package checkpoint

import (
	"fmt"
	"os"

	"github.com/ckpt/ckpt/image"
)

// pingRangeFile is net.ipv4.ping_group_range: the file shows the value of
// the network namespace of whoever opens it.
const pingRangeFile = "/proc/sys/net/ipv4/ping_group_range"

// readPingRange reads the ping_group_range of the calling thread's network
// namespace: nil when it is a new namespace's "1 0" (no group may make
// ICMP sockets).
func readPingRange() (*image.PingRange, error) {
	b, err := os.ReadFile(pingRangeFile)
	if err != nil {
		return nil, err
	}
	var r image.PingRange
	if _, err := fmt.Sscan(string(b), &r.Low, &r.High); err != nil {
		return nil, fmt.Errorf("%s %q: %w", pingRangeFile, b, err)
	}
	if r.Low == 1 && r.High == 0 {
		return nil, nil
	}
	return &r, nil
}
