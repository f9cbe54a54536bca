// Package nodeimage makes container images for the local stack's real node
// without a registry or a Docker engine: an image is layer tarballs made
// elsewhere (a root file system), a list of files, and a runtime
// configuration, written as a docker-archive
// tarball — the format `docker save` writes and `ctr images import` reads —
// and imported into the node's containerd.
package nodeimage

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
	"time"
)

// File is one regular file of an image's layer.
type File struct {
	// Path is the file's path inside the image, e.g. "/pause".
	Path string
	// Source is the host file whose content is copied.
	Source string
	// Mode is the file's permission bits.
	Mode fs.FileMode
}

// Config is what the runtime reads from the image: its command, environment,
// user and working directory (a subset of the OCI image configuration).
type Config struct {
	Entrypoint []string `json:"Entrypoint,omitempty"`
	Cmd        []string `json:"Cmd,omitempty"`
	Env        []string `json:"Env,omitempty"`
	User       string   `json:"User,omitempty"`
	WorkingDir string   `json:"WorkingDir,omitempty"`
	// ExposedPorts is in the image format's own shape: {"9000/tcp": {}}.
	ExposedPorts map[string]struct{} `json:"ExposedPorts,omitempty"`
}

// Image is one image: a name, its layers, and its configuration.
type Image struct {
	// Ref is the image's full reference, e.g. "docker.io/storeplatform/pause:local".
	Ref string
	// Layers are uncompressed layer tarballs made elsewhere (a root file
	// system, say), bottom first.
	Layers []string
	// Files make one more layer, on top of Layers.
	Files  []File
	Config Config
}

// layer is one layer of an archive: its name there, its size and digest,
// and how to copy its bytes.
type layer struct {
	name   string
	size   int64
	digest string // "sha256:<hex>", the configuration's diff ID
	copyTo func(io.Writer) error
}

// layers returns img's layers, Layers then Files. files holds the layers of
// tarballs already read for another image of the same archive, by path.
func (img Image) layers(files map[string]layer) ([]layer, error) {
	var out []layer
	for _, p := range img.Layers {
		l, ok := files[p]
		if !ok {
			var err error
			if l, err = fileLayer(p); err != nil {
				return nil, err
			}
			files[p] = l
		}
		out = append(out, l)
	}
	if len(img.Files) > 0 || len(out) == 0 {
		data, err := layerTar(img.Files)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(data)
		out = append(out, layer{
			size: int64(len(data)), digest: "sha256:" + hex.EncodeToString(sum[:]),
			copyTo: func(w io.Writer) error { _, err := w.Write(data); return err },
		})
	}
	for i := range out {
		out[i].name = strings.TrimPrefix(out[i].digest, "sha256:") + "/layer.tar"
	}
	return out, nil
}

// fileLayer is the layer of the tarball at path, its digest read through
// once.
func fileLayer(path string) (layer, error) {
	f, err := os.Open(path)
	if err != nil {
		return layer{}, fmt.Errorf("nodeimage: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	size, err := io.Copy(h, f)
	if err != nil {
		return layer{}, fmt.Errorf("nodeimage: %s: %w", path, err)
	}
	return layer{
		size: size, digest: "sha256:" + hex.EncodeToString(h.Sum(nil)),
		copyTo: func(w io.Writer) error {
			f, err := os.Open(path)
			if err != nil {
				return err
			}
			defer f.Close()
			n, err := io.Copy(w, f)
			if err == nil && n != size {
				err = fmt.Errorf("nodeimage: %s changed while it was written", path)
			}
			return err
		},
	}, nil
}

// epochSeconds is every entry's modification time (the Unix epoch), so that
// the same inputs make the same layer, byte for byte.
const epochSeconds = 0

// epoch is epochSeconds as a time.
func epoch() time.Time { return time.Unix(epochSeconds, 0).UTC() }

// WriteArchive writes imgs as one docker-archive tarball to w: their
// layers, each once however many images share it, their configurations and
// manifest.json. The same images always make the same bytes.
func WriteArchive(w io.Writer, imgs ...Image) error {
	if len(imgs) == 0 {
		return errors.New("nodeimage: no image to write")
	}
	var (
		layers    []layer
		written   = map[string]bool{}
		files     = map[string]layer{}
		manifests []map[string]any
		configs   []string // names of the configurations, in order
		blobs     = map[string][]byte{}
	)
	for _, img := range imgs {
		if img.Ref == "" || !strings.Contains(img.Ref, ":") {
			return fmt.Errorf("nodeimage: image reference %q needs a tag", img.Ref)
		}
		ls, err := img.layers(files)
		if err != nil {
			return err
		}
		diffIDs, names := make([]string, len(ls)), make([]string, len(ls))
		for i, l := range ls {
			diffIDs[i], names[i] = l.digest, l.name
			if !written[l.name] {
				written[l.name] = true
				layers = append(layers, l)
			}
		}
		config, err := json.Marshal(map[string]any{
			"architecture": "amd64",
			"os":           "linux",
			"created":      epoch().Format(time.RFC3339),
			"config":       img.Config,
			"rootfs":       map[string]any{"type": "layers", "diff_ids": diffIDs},
		})
		if err != nil {
			return err
		}
		configDigest := sha256.Sum256(config)
		configName := hex.EncodeToString(configDigest[:]) + ".json"
		if _, ok := blobs[configName]; !ok {
			blobs[configName] = config
			configs = append(configs, configName)
		}
		manifests = append(manifests, map[string]any{"Config": configName, "RepoTags": []string{img.Ref}, "Layers": names})
	}
	manifest, err := json.Marshal(manifests)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(w)
	for _, l := range layers {
		hdr := &tar.Header{Typeflag: tar.TypeReg, Name: l.name, Mode: 0o644, Size: l.size, ModTime: epoch(), Format: tar.FormatPAX}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if err := l.copyTo(tw); err != nil {
			return err
		}
	}
	for _, c := range configs {
		if err := writeEntry(tw, c, 0o644, blobs[c]); err != nil {
			return err
		}
	}
	if err := writeEntry(tw, "manifest.json", 0o644, manifest); err != nil {
		return err
	}
	return tw.Close()
}

// layerTar is the uncompressed tar of files, with their parent directories,
// in path order.
func layerTar(files []File) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dirs := map[string]bool{}
	sorted := append([]File(nil), files...)
	for i := range sorted {
		sorted[i].Path = strings.TrimPrefix(path.Clean("/"+sorted[i].Path), "/")
	}
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Path < sorted[j].Path })
	for _, f := range sorted {
		name := f.Path
		if name == "" {
			return nil, errors.New("nodeimage: a file needs a path")
		}
		var parents []string // deepest first
		for dir := path.Dir(name); dir != "." && !dirs[dir]; dir = path.Dir(dir) {
			dirs[dir] = true
			parents = append(parents, dir)
		}
		for i := len(parents) - 1; i >= 0; i-- {
			if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: parents[i] + "/", Mode: 0o755, ModTime: epoch(), Format: tar.FormatPAX}); err != nil {
				return nil, err
			}
		}
		data, err := os.ReadFile(f.Source)
		if err != nil {
			return nil, fmt.Errorf("nodeimage: %w", err)
		}
		if err := writeEntry(tw, name, int64(f.Mode.Perm()), data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// writeEntry writes one regular file to tw.
func writeEntry(tw *tar.Writer, name string, mode int64, data []byte) error {
	hdr := &tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(len(data)), ModTime: epoch(), Format: tar.FormatPAX}
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	_, err := tw.Write(data)
	return err
}
