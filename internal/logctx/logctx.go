// Package logctx carries the slog logger in a context, the way containerd's
// log.G(ctx) carries its logger: the engines log to whatever logger their
// caller put in the context (the CLI's, the runtime's, the shim's) without
// a logger field in every options struct.
package logctx

import (
	"context"
	"log/slog"
)

type key struct{}

// With returns ctx carrying l.
func With(ctx context.Context, l *slog.Logger) context.Context {
	return context.WithValue(ctx, key{}, l)
}

// G returns the logger ctx carries, or slog.Default().
func G(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(key{}).(*slog.Logger); ok && l != nil {
		return l
	}
	return slog.Default()
}
