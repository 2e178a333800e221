// Command ckpt-bench measures ckpt against CRIU and the hardware floor;
// `make bench` runs it. See package bench.
package main

import (
	"os"

	"github.com/ckpt/ckpt/bench"
)

func main() {
	os.Exit(bench.Main(os.Args))
}
