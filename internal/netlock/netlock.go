// Package netlock keeps a TCP connection's peer from being answered with a
// reset while the connection has no socket: between the checkpoint, which
// kills the tasks (their sockets, in repair mode, close silently), and the
// restore, which rebuilds the sockets. A packet from the peer in that gap
// (a delayed ACK, a keepalive, data) would find no socket, and the kernel
// would reset the connection. The lock is an nftables set of connections
// whose incoming packets are dropped; the peer retransmits them after the
// restore. It lives in the network namespace of the tasks, in table
// "inet ckpt", and is driven with nft(8) run there through nsenter(1).
package netlock

import (
	"bytes"
	"fmt"
	"net/netip"
	"os/exec"
	"strings"
)

// Conn is one TCP connection as its local end sees it.
type Conn struct {
	Local, Peer netip.AddrPort
}

// NewConn is the connection between local and peer.
func NewConn(local, peer netip.AddrPort) Conn { return Conn{Local: local, Peer: peer} }

const setup = `add table inet ckpt
add set inet ckpt tcp4 { type ipv4_addr . inet_service . ipv4_addr . inet_service ; }
add set inet ckpt tcp6 { type ipv6_addr . inet_service . ipv6_addr . inet_service ; }
`

// Lock drops, in the network namespace of task pid, every incoming packet
// of the connections.
func Lock(pid int, conns []Conn) error {
	if len(conns) == 0 {
		return nil
	}
	// The chain and its rules are made anew each time, atomically with the
	// elements, so there is exactly one of each.
	script := setup + `add chain inet ckpt input { type filter hook input priority -300 ; policy accept ; }
flush chain inet ckpt input
add rule inet ckpt input ip saddr . tcp sport . ip daddr . tcp dport @tcp4 drop
add rule inet ckpt input ip6 saddr . tcp sport . ip6 daddr . tcp dport @tcp6 drop
` + elements("add", conns)
	return nft(pid, script)
}

// Unlock lets the connections' packets through again. Connections that
// were not locked are no error.
func Unlock(pid int, conns []Conn) error {
	if len(conns) == 0 {
		return nil
	}
	// Adding first makes the delete succeed whether or not they were there.
	return nft(pid, setup+elements("add", conns)+elements("delete", conns))
}

// Available says whether the tools the lock needs are installed.
func Available() error {
	for _, tool := range []string{"nsenter", "nft"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("TCP connections are locked with %s, which is not installed: %w", tool, err)
		}
	}
	return nil
}

// elements lists the connections as seen by incoming packets: from the
// peer to the local end.
func elements(verb string, conns []Conn) string {
	var v4, v6 []string
	for _, c := range conns {
		e := fmt.Sprintf("%s . %d . %s . %d", c.Peer.Addr().Unmap(), c.Peer.Port(), c.Local.Addr().Unmap(), c.Local.Port())
		if c.Local.Addr().Unmap().Is4() && c.Peer.Addr().Unmap().Is4() {
			v4 = append(v4, e)
		} else {
			v6 = append(v6, e)
		}
	}
	var b strings.Builder
	if len(v4) > 0 {
		fmt.Fprintf(&b, "%s element inet ckpt tcp4 { %s }\n", verb, strings.Join(v4, ", "))
	}
	if len(v6) > 0 {
		fmt.Fprintf(&b, "%s element inet ckpt tcp6 { %s }\n", verb, strings.Join(v6, ", "))
	}
	return b.String()
}

func nft(pid int, script string) error {
	cmd := exec.Command("nsenter", "--net=/proc/"+fmt.Sprint(pid)+"/ns/net", "nft", "-f", "-")
	cmd.Stdin = strings.NewReader(script)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("nft in the network namespace of task %d: %w: %s", pid, err, strings.TrimSpace(out.String()))
	}
	return nil
}
