package oci

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckDirRefuses(t *testing.T) {
	empty := t.TempDir()
	if _, err := CheckDir(empty); err == nil || !strings.Contains(err.Error(), "holds no image.ckpt") {
		t.Errorf("a directory without the image: %v", err)
	}
	bad := t.TempDir()
	if err := os.WriteFile(filepath.Join(bad, ImageName), []byte("not an image at all"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := CheckDir(bad); err == nil || !strings.Contains(err.Error(), "corrupt image image.ckpt") {
		t.Errorf("a corrupt image: %v", err)
	}
}
