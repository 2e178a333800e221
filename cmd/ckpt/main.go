// Command ckpt checkpoints and restores Linux processes and containers.
package main

import (
	"os"

	"github.com/ckpt/ckpt/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args))
}
