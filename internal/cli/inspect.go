package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"

	ucli "github.com/urfave/cli/v2"

	"github.com/ckpt/ckpt/checkpoint/image"
)

func inspectCommand() *ucli.Command {
	return &ucli.Command{
		Name:      "inspect",
		Usage:     "print the records of an image",
		UsageText: "ckpt inspect (FILE | DIR | -) [--json]",
		Description: `Prints every record of the image with its offset, and checks the image
while doing so (framing, tail, digest): a damaged image prints the records
up to the damage and then the error.`,
		Flags: []ucli.Flag{
			&ucli.BoolFlag{Name: "json", Usage: `one JSON object: {"records":[{"offset","type","len","fields"}...]}`},
		},
		Action: runInspect,
	}
}

// inspected is one record as `ckpt inspect --json` shows it.
type inspected struct {
	Offset int64        `json:"offset"`
	Type   string       `json:"type"`
	Len    uint32       `json:"len"`
	Fields image.Record `json:"fields"`
}

func runInspect(c *ucli.Context) error {
	// The flag parser stops at the first argument; accept --json after the
	// image too, as `ckpt inspect IMAGE --json` is the natural order.
	asJSON := c.Bool("json")
	var args []string
	for _, a := range c.Args().Slice() {
		if a == "--json" || a == "-json" {
			asJSON = true
			continue
		}
		args = append(args, a)
	}
	if len(args) != 1 {
		return fmt.Errorf("inspect takes one image: a file, a directory or -")
	}
	in, err := openImage(args[0])
	if err != nil {
		return err
	}
	defer in.Close()
	r := image.NewReader(in, image.Options{})
	var recs []inspected
	var readErr error
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			readErr = err
			break
		}
		recs = append(recs, inspected{Offset: r.RecordOffset(), Type: rec.Type().String(), Len: r.RecordLen(), Fields: rec})
		if !asJSON {
			printRecord(os.Stdout, recs[len(recs)-1])
		}
	}
	if asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", " ")
		if err := enc.Encode(struct {
			Records []inspected `json:"records"`
		}{recs}); err != nil {
			return err
		}
	}
	if readErr != nil {
		return ucli.Exit(fmt.Sprintf("image is damaged: %v", readErr), 2)
	}
	return nil
}

// printRecord prints one record on one line: offset, type, then its fields;
// byte blobs are shown by size, register files in hex.
func printRecord(w io.Writer, ir inspected) {
	var b strings.Builder
	fmt.Fprintf(&b, "%10d %-10s", ir.Offset, ir.Type)
	v := reflect.Indirect(reflect.ValueOf(ir.Fields))
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Tag.Get("ckpt") == "-" && f.Name != "DataOffset" {
			continue
		}
		fmt.Fprintf(&b, " %s=%s", f.Name, formatField(v.Field(i)))
	}
	fmt.Fprintln(w, b.String())
}

func formatField(v reflect.Value) string {
	switch v.Kind() {
	case reflect.String:
		return fmt.Sprintf("%q", v.String())
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return fmt.Sprintf("<%d bytes>", v.Len())
		}
		if v.Type().Elem().Kind() == reflect.Array {
			return fmt.Sprintf("<%d entries>", v.Len())
		}
		if v.Type().Elem().Kind() == reflect.Struct && v.Len() > 4 {
			return fmt.Sprintf("<%d entries>", v.Len())
		}
	case reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return fmt.Sprintf("%q", strings.TrimRight(string(v.Bytes()), "\x00"))
		}
		if v.Type().Elem().Kind() == reflect.Uint64 {
			parts := make([]string, v.Len())
			for i := range parts {
				parts[i] = fmt.Sprintf("%x", v.Index(i).Uint())
			}
			return "[" + strings.Join(parts, " ") + "]"
		}
	case reflect.Uint64:
		return fmt.Sprintf("%#x", v.Uint())
	}
	return fmt.Sprintf("%v", v.Interface())
}
