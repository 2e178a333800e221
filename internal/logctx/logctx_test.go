package logctx

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
)

func TestG(t *testing.T) {
	if G(context.Background()) != slog.Default() {
		t.Fatal("a context without a logger must give slog.Default()")
	}
	var b bytes.Buffer
	l := slog.New(slog.NewTextHandler(&b, nil))
	G(With(context.Background(), l)).Info("hello", "pid", 1)
	if !strings.Contains(b.String(), "msg=hello pid=1") {
		t.Fatalf("the logger in the context did not get the record: %q", b.String())
	}
}
