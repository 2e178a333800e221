package kubelet

import (
	"archive/tar"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"runtime"

	"github.com/containerd/containerd/v2/core/content"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// containerd's CRI plugin (2.1 to 2.3, enable_experimental_restore_via_create)
// restores a container from a checkpoint image given as the new
// container's image when the image's index carries AnnotationName: it
// mounts the image's root file system read-only and takes from it what an
// archive holds (config.dump, spec.dump, status.dump, checkpoint/,
// rootfs-diff.tar, container.log), as if unpacked from the archive
// (internal/cri/server/container_checkpoint_linux.go, CRImportCheckpoint).
// So the image is an ordinary one-layer image of the archive's files.

// criManifest writes that image: a layer (an uncompressed tar of the
// archive's directories and regular files, as checked by Open, in their
// order), its config and its manifest; it returns the manifest's
// descriptor, with the platform it was made for.
func (a *Archive) criManifest(ctx context.Context, store content.Store, stamp string) (ocispec.Descriptor, error) {
	layer, err := a.writeBlob(ctx, store, stamp+"-cri-layer", ocispec.MediaTypeImageLayer, a.filesTar)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	platform := ocispec.Platform{OS: "linux", Architecture: runtime.GOARCH}
	img := ocispec.Image{
		Platform: platform,
		RootFS:   ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{layer.Digest}},
		Config:   ocispec.ImageConfig{Labels: map[string]string{AnnotationName: a.Config.Name}},
	}
	if t := a.Config.CheckpointedAt; !t.IsZero() {
		img.Created = &t
	}
	config, err := a.jsonBlob(ctx, store, stamp+"-cri-config", ocispec.MediaTypeImageConfig, img, nil)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	m := ocispec.Manifest{
		MediaType:   ocispec.MediaTypeImageManifest,
		Config:      config,
		Layers:      []ocispec.Descriptor{layer},
		Annotations: map[string]string{AnnotationName: a.Config.Name},
	}
	m.SchemaVersion = 2
	desc, err := a.jsonBlob(ctx, store, stamp+"-cri-manifest", ocispec.MediaTypeImageManifest, m, map[string]string{
		"containerd.io/gc.ref.content.config": config.Digest.String(),
		"containerd.io/gc.ref.content.l.0":    layer.Digest.String(),
	})
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	desc.Platform = &platform
	return desc, nil
}

// jsonBlob writes v as JSON into a blob of the content store.
func (a *Archive) jsonBlob(ctx context.Context, store content.Store, ref, mediaType string, v any, labels map[string]string) (ocispec.Descriptor, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	var opts []content.Opt
	if labels != nil {
		opts = append(opts, content.WithLabels(labels))
	}
	return a.writeBlob(ctx, store, ref, mediaType, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	}, opts...)
}

// filesTar writes the archive's directories and regular files, checked
// again as they are read (names, kinds, sizes as Open saw them), into a
// tar: nothing else (no link, no device) can be in it.
func (a *Archive) filesTar(w io.Writer) error {
	tw := tar.NewWriter(w)
	dirs := map[string]bool{}
	err := a.walk(func(m *Member, r io.Reader) error {
		// Each file's directories first (an archive need not list them).
		for i := range len(m.Name) {
			if d := m.Name[:i]; m.Name[i] == '/' && !dirs[d] {
				dirs[d] = true
				if err := tw.WriteHeader(&tar.Header{Name: d + "/", Typeflag: tar.TypeDir, Mode: 0o755, ModTime: m.Time}); err != nil {
					return err
				}
			}
		}
		if seen := a.byName[m.Name]; seen == nil || seen.Size != m.Size {
			return fmt.Errorf("member %s changed since it was checked", m.Name)
		}
		h := &tar.Header{Name: m.Name, Typeflag: tar.TypeReg, Mode: m.Mode & 0o644, Size: m.Size, ModTime: m.Time}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if m.Name == ImageMember {
			// The image is checked as it is copied, as for ctr's layer.
			return checkImage(io.TeeReader(io.LimitReader(r, m.Size), tw))
		}
		_, err := io.CopyN(tw, r, m.Size)
		return err
	}, false)
	if err != nil {
		return err
	}
	return tw.Close()
}
