package cli

import (
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"

	ucli "github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/restore/lazypages"
)

// pageServerCommand serves an image's pages to `ckpt restore --lazy
// --page-server ADDR` (restore/lazypages/remote.go).
func pageServerCommand() *ucli.Command {
	return &ucli.Command{
		Name:  "page-server",
		Usage: "serve an image's pages to a lazy restore (ckpt restore --lazy --page-server ADDR)",
		Description: `Serves the bytes of one image file, read only, on ADDR (host:port, or
unix:PATH for a unix socket made mode 0600), to the page server of 'ckpt
restore --lazy --page-server ADDR', which checks that it is the same image and
reads the pages it fills from here. Prints "listening on ADDR" once it
serves; runs until SIGTERM or SIGINT. Anyone who can connect can read the
image (the process's memory): use a unix socket, the loopback or a link you
trust.`,
		Flags: []ucli.Flag{
			&ucli.StringFlag{Name: "image", Required: true, Usage: "the image `FILE` to serve"},
			&ucli.StringFlag{Name: "address", Required: true, Usage: "where to listen: `ADDR` is host:port or unix:PATH"},
		},
		Action: func(c *ucli.Context) error {
			img, err := os.Open(c.String("image"))
			if err != nil {
				return ucli.Exit(fmt.Sprintf("page-server: %v", err), 1)
			}
			defer img.Close()
			network, address := lazypages.ParseAddress(c.String("address"))
			// The socket file must not be readable by others before its
			// mode is set: make it under a umask that denies them.
			old := unix.Umask(0o077)
			l, err := net.Listen(network, address)
			unix.Umask(old)
			if err != nil {
				return ucli.Exit(fmt.Sprintf("page-server: %v", err), 1)
			}
			log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})).
				With("component", "page-server", "pid", os.Getpid(), "image", img.Name())
			ch := make(chan os.Signal, 1)
			signal.Notify(ch, unix.SIGTERM, unix.SIGINT)
			go func() {
				<-ch
				l.Close() // unlinks a unix socket
			}()
			fmt.Fprintf(c.App.Writer, "listening on %s\n", l.Addr())
			if err := lazypages.ServePages(l, img, log); err != nil {
				return ucli.Exit(fmt.Sprintf("page-server: %v", err), 1)
			}
			return nil
		},
	}
}
