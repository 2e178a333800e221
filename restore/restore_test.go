package restore

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/ckpt/ckpt/image"
)

// TestRestoreCancelled: a restore whose context is already cancelled
// creates nothing and says why.
func TestRestoreCancelled(t *testing.T) {
	var buf bytes.Buffer
	w := image.NewWriter(&buf)
	if err := w.Write(image.NewHeader()); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	im, err := image.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer im.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := RestoreImage(ctx, im, Options{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("RestoreImage with a cancelled context: %v, want %v", err, context.Canceled)
	}
}
