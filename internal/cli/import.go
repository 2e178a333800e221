package cli

import (
	"fmt"

	containerd "github.com/containerd/containerd/v2/client"
	ucli "github.com/urfave/cli/v2"

	"github.com/ckpt/ckpt/oci/kubelet"
)

func importCommand() *ucli.Command {
	return &ucli.Command{
		Name:      "import",
		Usage:     "turn a kubelet checkpoint archive into a checkpoint image in containerd",
		UsageText: "ckpt import --address SOCK [--namespace NS] [--snapshotter S] [--base-image REF] ARCHIVE REF",
		Description: `Makes REF a checkpoint image in containerd's content store, as
'ctr containers checkpoint --task --rw' makes one, from a kubelet archive
(ckpt's, see docs/kubernetes.md): restore it with
'ctr containers restore --rw --live ID REF' (containerd 2.4 has no
other way back from an archive), or, after 'ctr image export' and
'ctr image import' into CRI's namespace (k8s.io) of a containerd 2.1 to
2.3, through CRI's CreateContainer with REF as the container's image (the
image holds an OCI manifest whose layer is the archive's files, for that;
--no-cri-manifest leaves it out). The base image (config.dump's) must be in
containerd, in the same namespace. The archive is untrusted: it is checked
as 'ckpt inspect' checks it, the image inside is read through (digest
included) before anything is committed.`,
		Flags: []ucli.Flag{
			&ucli.StringFlag{Name: "address", Aliases: []string{"a"}, Value: "/run/containerd/containerd.sock", Usage: "containerd's `SOCKET`"},
			&ucli.StringFlag{Name: "namespace", Aliases: []string{"n"}, Value: "default", Usage: "containerd `NAMESPACE`"},
			&ucli.StringFlag{Name: "snapshotter", Value: "overlayfs", Usage: "the snapshotter the restored container gets"},
			&ucli.StringFlag{Name: "base-image", Usage: "the base image `REF` (default: the archive's config.dump's)"},
			&ucli.Int64Flag{Name: "max-member-size", Usage: "refuse archive members over `BYTES` (default 64 GiB)"},
			&ucli.BoolFlag{Name: "tcp-established", Usage: "the image's restore gets --tcp-established (ctr passes no options)"},
			&ucli.BoolFlag{Name: "file-locks", Usage: "the image's restore gets --file-locks"},
			&ucli.BoolFlag{Name: "ext-unix-sk", Usage: "the image's restore gets --ext-unix-sk"},
			&ucli.BoolFlag{Name: "no-cri-manifest", Usage: "leave out the image's OCI manifest for CRI's restore through CreateContainer (containerd 2.1-2.3): the checkpoint is stored once, not twice"},
		},
		Action: func(c *ucli.Context) error {
			if c.NArg() != 2 {
				return fmt.Errorf("import takes an archive and an image reference")
			}
			a, err := kubelet.Open(c.Args().Get(0), kubelet.Limits{Member: c.Int64("max-member-size")})
			if err != nil {
				return err
			}
			client, err := containerd.New(c.String("address"), containerd.WithDefaultNamespace(c.String("namespace")))
			if err != nil {
				return fmt.Errorf("containerd at %s: %w", c.String("address"), err)
			}
			defer client.Close()
			var flags []string
			for _, f := range []string{"tcp-established", "file-locks", "ext-unix-sk"} {
				if c.Bool(f) {
					flags = append(flags, f)
				}
			}
			d, err := kubelet.Import(c.Context, client, a, c.Args().Get(1), kubelet.ImportOptions{
				Snapshotter: c.String("snapshotter"), BaseImage: c.String("base-image"), NoCRIManifest: c.Bool("no-cri-manifest"), RestoreFlags: flags})
			if err != nil {
				return err
			}
			fmt.Printf("%s %s\n", c.Args().Get(1), d.Digest)
			return nil
		},
	}
}
