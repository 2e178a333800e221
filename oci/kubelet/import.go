package kubelet

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/core/content"
	"github.com/containerd/containerd/v2/core/images"
	"github.com/containerd/containerd/v2/pkg/protobuf/proto"
	"github.com/containerd/errdefs"
	"github.com/containerd/typeurl/v2"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/oci"
)

// AnnotationName on a checkpoint image's index names the checkpointed
// container (checkpointctl's and CRI-O's annotation).
const AnnotationName = "org.criu.checkpoint.container.name"

// ckptAnnotations prefixes the annotations ckpt's runtime reads from a
// bundle (oci.RestoreFlagAnnotation, oci.RootfsCopyAnnotation).
const ckptAnnotations = "io.ckpt."

// ImportOptions tune Import.
type ImportOptions struct {
	// Snapshotter the restored container's rw layer is made with
	// (containerd's default: overlayfs).
	Snapshotter string
	// BaseImage overrides config.dump's image, which must be in
	// containerd (same namespace) for a restore.
	BaseImage string
	// NoCRIManifest leaves out the OCI manifest whose layer holds the
	// archive's files (which CRI's restore through CreateContainer
	// reads): the image then holds the checkpoint once, not twice.
	NoCRIManifest bool
	// RestoreFlags (restore flag names: tcp-established, file-locks,
	// ext-unix-sk) are given to the restore of the image as its spec's
	// annotations (oci.RestoreFlagAnnotation): `ctr containers restore`
	// passes no options.
	RestoreFlags []string
}

// Import turns a checked archive into a checkpoint image REF in
// containerd's content store, as `ctr containers checkpoint --task --rw`
// makes one: an index holding the checkpoint layer (a tar of image.ckpt),
// the container's spec, the rootfs diff as a gzip layer, annotated with the
// base image, the runtime (io.containerd.ckpt.v2), the snapshotter and the
// container's name. `ctr containers restore --rw --live ID REF` restores
// it. The image is checked (framing, digest, a CONTAINER record) while
// it is copied; nothing is committed if it is not sound.
//
// The spec's namespaces that named a path (the pod's: its IPC, UTS and
// network namespaces, the pause process's pid namespace) are made the
// container's own: those paths were the old pod's.
func Import(ctx context.Context, client *containerd.Client, a *Archive, ref string, o ImportOptions) (ocispec.Descriptor, error) {
	if a.Member(ImageMember) == nil {
		return ocispec.Descriptor{}, fmt.Errorf("archive %s holds no %s: not a ckpt checkpoint", a.Path, ImageMember)
	}
	if a.Spec == nil {
		return ocispec.Descriptor{}, fmt.Errorf("archive %s holds no %s", a.Path, SpecDump)
	}
	base := o.BaseImage
	if base == "" {
		base = a.Config.RootfsImageName
	}
	if base == "" {
		return ocispec.Descriptor{}, fmt.Errorf("archive %s: %s names no image: give the base image", a.Path, ConfigDump)
	}
	if o.Snapshotter == "" {
		o.Snapshotter = "overlayfs"
	}
	ctx, done, err := client.WithLease(ctx)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	defer done(ctx)
	store := client.ContentStore()
	stamp := fmt.Sprintf("ckpt-import-%d", time.Now().UnixNano())

	layer, err := a.checkpointLayer(ctx, store, stamp)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	descs := []ocispec.Descriptor{layer}

	if a.Member(RootfsDiff) != nil {
		rw, err := a.rwLayer(ctx, store, stamp)
		if err != nil {
			return ocispec.Descriptor{}, err
		}
		descs = append(descs, rw)
	}

	cfg, err := a.specBlob(ctx, store, stamp, o.RestoreFlags)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	descs = append(descs, cfg)

	// The same checkpoint as an OCI image of the archive's files, for
	// the restore through CRI's CreateContainer (containerd 2.1 to 2.3),
	// first in the index: a platform's manifest is what containerd
	// unpacks, exports and resolves; ctr's restore picks the parts above
	// by media type.
	if !o.NoCRIManifest {
		m, err := a.criManifest(ctx, store, stamp)
		if err != nil {
			return ocispec.Descriptor{}, err
		}
		descs = append([]ocispec.Descriptor{m}, descs...)
	}

	index := ocispec.Index{
		MediaType: ocispec.MediaTypeImageIndex,
		Manifests: descs,
		Annotations: map[string]string{
			oci.AnnotationRefName:     base,
			oci.AnnotationRuntime:     oci.RuntimeType,
			oci.AnnotationSnapshotter: o.Snapshotter,
			AnnotationName:            a.Config.Name,
		},
	}
	index.SchemaVersion = 2
	ib, err := json.Marshal(index)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	labels := map[string]string{}
	for i, d := range descs {
		labels[fmt.Sprintf("containerd.io/gc.ref.content.%d", i)] = d.Digest.String()
	}
	target, err := a.writeBlob(ctx, store, stamp+"-index", ocispec.MediaTypeImageIndex, func(w io.Writer) error {
		_, err := w.Write(ib)
		return err
	}, content.WithLabels(labels))
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	_, err = client.ImageService().Create(ctx, images.Image{
		Name: ref, Target: target,
		Labels: map[string]string{oci.LabelCheckpoint: "true"},
	})
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("image %s: %w", ref, err)
	}
	return target, nil
}

// writeBlob writes what fill writes into a new blob of the content store
// and commits it only if fill succeeds.
func (a *Archive) writeBlob(ctx context.Context, store content.Store, ref, mediaType string, fill func(io.Writer) error, opts ...content.Opt) (ocispec.Descriptor, error) {
	w, err := store.Writer(ctx, content.WithRef(ref))
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	defer w.Close()
	cw := &countWriter{w: w}
	if err := fill(cw); err != nil {
		_ = store.Abort(ctx, ref)
		return ocispec.Descriptor{}, fmt.Errorf("archive %s: %w", a.Path, err)
	}
	if err := w.Commit(ctx, cw.n, "", opts...); err != nil && !errdefs.IsAlreadyExists(err) {
		return ocispec.Descriptor{}, err
	}
	return ocispec.Descriptor{MediaType: mediaType, Digest: w.Digest(), Size: cw.n}, nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// checkImage reads a whole image: framing, payloads, digest, and a
// CONTAINER record right after the HEADER.
func checkImage(r io.Reader) error {
	rd := image.NewReader(r, image.Options{})
	for i := 0; ; i++ {
		rec, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("%s: %w", ImageMember, err)
		}
		if i == 1 {
			if _, ok := rec.(*image.Container); !ok {
				return fmt.Errorf("%s is a process's image, not a container's (no CONTAINER record)", ImageMember)
			}
		}
	}
	// Anything after the TAIL is refused as Validate does.
	var b [1]byte
	if n, _ := r.Read(b[:]); n > 0 {
		return fmt.Errorf("%s: data follows the TAIL", ImageMember)
	}
	return nil
}

// checkTarNames reads a tar through, refusing names that lead out of the
// directory it is applied to.
func checkTarNames(r io.Reader) error {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			// Whatever follows the end of the tar is read too (through the
			// tee, into the blob): the blob is the whole member.
			_, err = io.Copy(io.Discard, r)
			return err
		}
		if err != nil {
			return fmt.Errorf("%s: %w", RootfsDiff, err)
		}
		name := strings.TrimPrefix(h.Name, "./")
		if strings.HasPrefix(name, "/") || name == ".." || strings.HasPrefix(name, "../") || strings.Contains(name, "/../") || strings.HasSuffix(name, "/..") {
			return fmt.Errorf("%s: entry %q leads out of the root file system", RootfsDiff, h.Name)
		}
		if h.Typeflag == tar.TypeLink && (strings.HasPrefix(h.Linkname, "/") || strings.Contains("/"+h.Linkname+"/", "/../")) {
			return fmt.Errorf("%s: hard link %q to %q leads out of the root file system", RootfsDiff, h.Name, h.Linkname)
		}
	}
}

// checkpointLayer writes the checkpoint layer: image.ckpt in a tar,
// checked (checkImage) as it is copied.
func (a *Archive) checkpointLayer(ctx context.Context, store content.Store, stamp string) (ocispec.Descriptor, error) {
	return a.writeBlob(ctx, store, stamp+"-checkpoint", oci.MediaTypeCheckpoint, func(w io.Writer) error {
		tw := tar.NewWriter(w)
		if err := tw.WriteHeader(&tar.Header{Name: oci.ImageName, Typeflag: tar.TypeReg, Mode: 0o600, Size: a.Size(ImageMember), ModTime: a.Config.CheckpointedAt}); err != nil {
			return err
		}
		if err := a.Read(ImageMember, func(r io.Reader) error {
			return checkImage(io.TeeReader(r, tw))
		}); err != nil {
			return err
		}
		return tw.Close()
	})
}

// rwLayer writes the rootfs diff as a gzip layer (containerd's archives
// hold it gzipped already, CRI-O's as a plain tar); its names are checked
// (containerd's applier confines links itself).
func (a *Archive) rwLayer(ctx context.Context, store content.Store, stamp string) (ocispec.Descriptor, error) {
	return a.writeBlob(ctx, store, stamp+"-rw", ocispec.MediaTypeImageLayerGzip, func(w io.Writer) error {
		return a.Read(RootfsDiff, func(r io.Reader) error {
			br := bufio.NewReader(r)
			if magic, _ := br.Peek(2); bytes.Equal(magic, []byte{0x1f, 0x8b}) {
				zr, err := gzip.NewReader(io.TeeReader(br, w))
				if err != nil {
					return fmt.Errorf("%s: %w", RootfsDiff, err)
				}
				if err := checkTarNames(zr); err != nil {
					return err
				}
				// The rest of the member, copied as it is.
				_, err = io.Copy(w, br)
				return err
			}
			zw := gzip.NewWriter(w)
			if err := checkTarNames(io.TeeReader(br, zw)); err != nil {
				return err
			}
			if _, err := io.Copy(zw, br); err != nil {
				return err
			}
			return zw.Close()
		})
	})
}

// specBlob writes the spec as containerd stores a container's: a protobuf
// Any. The namespaces that named a path (the old pod's) are made the
// container's own. ckpt's own annotations (io.ckpt.*: restore flags, a
// rootfs copy) are the importer's and the shim's to give, not the
// archive's: any in spec.dump are dropped, then the restore flags asked
// for are set.
func (a *Archive) specBlob(ctx context.Context, store content.Store, stamp string, flags []string) (ocispec.Descriptor, error) {
	spec, err := importSpec(a.Spec, flags)
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("archive %s: %s: %w", a.Path, SpecDump, err)
	}
	anySpec, err := typeurl.MarshalAnyToProto(spec)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	specBytes, err := proto.Marshal(anySpec)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	return a.writeBlob(ctx, store, stamp+"-spec", oci.MediaTypeCheckpointConfig, func(w io.Writer) error {
		_, err := w.Write(specBytes)
		return err
	})
}

// importSpec is the spec of spec.dump as the imported image holds it (see
// specBlob).
func importSpec(raw []byte, flags []string) (*specs.Spec, error) {
	var spec specs.Spec
	if err := json.Unmarshal(raw, &spec); err != nil {
		return nil, err
	}
	if spec.Linux != nil {
		for i := range spec.Linux.Namespaces {
			spec.Linux.Namespaces[i].Path = ""
		}
	}
	for k := range spec.Annotations {
		if strings.HasPrefix(k, ckptAnnotations) {
			delete(spec.Annotations, k)
		}
	}
	for _, f := range flags {
		if spec.Annotations == nil {
			spec.Annotations = map[string]string{}
		}
		spec.Annotations[oci.RestoreFlagAnnotation+f] = "true"
	}
	return &spec, nil
}
