package cli

import (
	ucli "github.com/urfave/cli/v2"

	ckptrt "github.com/ckpt/ckpt/runtime"
)

func pauseCommand() *ucli.Command {
	return &ucli.Command{
		Name: "pause", Usage: "freeze every process of a container", ArgsUsage: "<container-id>",
		Action: onID((*ckptrt.Runtime).Pause),
	}
}

func resumeCommand() *ucli.Command {
	return &ucli.Command{
		Name: "resume", Usage: "thaw a paused container", ArgsUsage: "<container-id>",
		Action: onID((*ckptrt.Runtime).Resume),
	}
}
