// Command ckpt checkpoints and restores Linux processes and containers.
package main

import (
	"os"

	"github.com/ckpt/ckpt/internal/cli"
	"github.com/ckpt/ckpt/internal/guard"
)

func main() {
	// ckpt re-executes itself as the guardian of a checkpoint or restore
	// (internal/guard): that process never gets to the command line.
	guard.Main()
	os.Exit(cli.Main(os.Args))
}
