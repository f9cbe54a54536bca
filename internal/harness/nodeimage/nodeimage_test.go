package nodeimage

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// readTar returns the entries of a tar stream by name, and their headers.
func readTar(t *testing.T, data []byte) (map[string][]byte, map[string]*tar.Header, []string) {
	t.Helper()
	files, headers := map[string][]byte{}, map[string]*tar.Header{}
	var order []string
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return files, headers, order
		}
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		files[hdr.Name], headers[hdr.Name] = body, hdr
		order = append(order, hdr.Name)
	}
}

// TestWriteArchiveIsWhatImportReads: the archive holds manifest.json naming
// the tag, the configuration and the layer; the configuration's diff ID is
// the layer's digest; the layer holds the files with their parents and
// modes; the same image makes the same bytes.
func TestWriteArchiveIsWhatImportReads(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "prog")
	if err := os.WriteFile(bin, []byte("#!/bin/true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	img := Image{
		Ref: "docker.io/storeplatform/x:1",
		Files: []File{
			{Path: "/usr/bin/prog", Source: bin, Mode: 0o755},
			{Path: "etc/prog.conf", Source: bin, Mode: 0o644},
		},
		Config: Config{Entrypoint: []string{"/usr/bin/prog"}, User: "65534:65534", Env: []string{"A=1"}},
	}
	var first, second bytes.Buffer
	if err := WriteArchive(&first, img); err != nil {
		t.Fatal(err)
	}
	if err := WriteArchive(&second, img); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first.Bytes(), second.Bytes()) {
		t.Error("the same image made different archives")
	}
	entries, _, _ := readTar(t, first.Bytes())
	var manifest []struct {
		Config   string
		RepoTags []string
		Layers   []string
	}
	if err := json.Unmarshal(entries["manifest.json"], &manifest); err != nil {
		t.Fatalf("manifest.json: %v", err)
	}
	if len(manifest) != 1 || len(manifest[0].Layers) != 1 || len(manifest[0].RepoTags) != 1 || manifest[0].RepoTags[0] != img.Ref {
		t.Fatalf("manifest %+v, want one image tagged %s with one layer", manifest, img.Ref)
	}
	var config struct {
		Architecture, OS string
		Config           Config
		RootFS           struct {
			Type    string
			DiffIDs []string `json:"diff_ids"`
		}
	}
	if err := json.Unmarshal(entries[manifest[0].Config], &config); err != nil {
		t.Fatalf("config %s: %v", manifest[0].Config, err)
	}
	layer := entries[manifest[0].Layers[0]]
	sum := sha256.Sum256(layer)
	if want := "sha256:" + hex.EncodeToString(sum[:]); len(config.RootFS.DiffIDs) != 1 || config.RootFS.DiffIDs[0] != want {
		t.Errorf("diff_ids %v, want [%s]", config.RootFS.DiffIDs, want)
	}
	if config.Architecture != "amd64" || config.OS != "linux" || config.RootFS.Type != "layers" {
		t.Errorf("config %+v, want linux/amd64 layers", config)
	}
	if strings.Join(config.Config.Entrypoint, " ") != "/usr/bin/prog" || config.Config.User != "65534:65534" || strings.Join(config.Config.Env, ",") != "A=1" {
		t.Errorf("runtime config %+v, want the image's", config.Config)
	}
	files, headers, order := readTar(t, layer)
	if want := "etc/,etc/prog.conf,usr/,usr/bin/,usr/bin/prog"; strings.Join(order, ",") != want {
		t.Errorf("layer entries %s, want %s", strings.Join(order, ","), want)
	}
	for _, tt := range []struct {
		name string
		mode int64
	}{{"usr/bin/prog", 0o755}, {"etc/prog.conf", 0o644}, {"usr/bin/", 0o755}} {
		if h := headers[tt.name]; h == nil || h.Mode != tt.mode {
			t.Errorf("%s: header %+v, want mode %o", tt.name, h, tt.mode)
		}
	}
	if string(files["usr/bin/prog"]) != "#!/bin/true\n" {
		t.Errorf("usr/bin/prog holds %q", files["usr/bin/prog"])
	}
}

// TestWriteArchiveRefusesBadImages: no tag, no path, no source file.
func TestWriteArchiveRefusesBadImages(t *testing.T) {
	for _, tt := range []struct {
		name string
		img  Image
		want string
	}{
		{"no tag", Image{Ref: "docker.io/storeplatform/x"}, "needs a tag"},
		{"no path", Image{Ref: "x:1", Files: []File{{Path: "/", Source: "/dev/null"}}}, "needs a path"},
		{"no source", Image{Ref: "x:1", Files: []File{{Path: "/a", Source: filepath.Join(t.TempDir(), "missing")}}}, "no such file"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := WriteArchive(io.Discard, tt.img)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one saying %q", err, tt.want)
			}
		})
	}
}

// TestWriteArchiveStacksLayers: prebuilt layer tarballs come first, bottom
// first, each copied as it is under its own digest, and the files make
// the top layer.
func TestWriteArchiveStacksLayers(t *testing.T) {
	dir := t.TempDir()
	base, basePath := baseLayer(t, dir)
	top := filepath.Join(dir, "entrypoint")
	if err := os.WriteFile(top, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	img := Image{Ref: "x:1", Layers: []string{basePath}, Files: []File{{Path: "/entrypoint", Source: top, Mode: 0o755}}}
	if err := WriteArchive(&out, img); err != nil {
		t.Fatal(err)
	}
	entries, _, _ := readTar(t, out.Bytes())
	var manifest []struct {
		Config string
		Layers []string
	}
	if err := json.Unmarshal(entries["manifest.json"], &manifest); err != nil || len(manifest) != 1 || len(manifest[0].Layers) != 2 {
		t.Fatalf("manifest %+v (%v), want one image of two layers", manifest, err)
	}
	var config struct {
		RootFS struct {
			DiffIDs []string `json:"diff_ids"`
		}
	}
	if err := json.Unmarshal(entries[manifest[0].Config], &config); err != nil {
		t.Fatal(err)
	}
	baseSum := sha256.Sum256(base)
	if got := config.RootFS.DiffIDs; len(got) != 2 || got[0] != "sha256:"+hex.EncodeToString(baseSum[:]) {
		t.Errorf("diff_ids %v, want the base layer's digest first", got)
	}
	if !bytes.Equal(entries[manifest[0].Layers[0]], base) {
		t.Error("the base layer was not copied as it is")
	}
	if files, _, _ := readTar(t, entries[manifest[0].Layers[1]]); string(files["entrypoint"]) != "#!/bin/sh\n" {
		t.Errorf("the top layer holds %q", files["entrypoint"])
	}
}

// TestWriteArchiveSharesLayers: images of one archive that share a layer
// tarball carry it once, and manifest.json names every image with its own
// configuration and layers.
func TestWriteArchiveSharesLayers(t *testing.T) {
	dir := t.TempDir()
	base, basePath := baseLayer(t, dir)
	var out bytes.Buffer
	imgs := []Image{
		{Ref: "docker.io/x/db:1", Layers: []string{basePath}, Config: Config{Cmd: []string{"db"}}},
		{Ref: "docker.io/x/cache:1", Layers: []string{basePath}, Config: Config{Cmd: []string{"cache"}}},
	}
	if err := WriteArchive(&out, imgs...); err != nil {
		t.Fatal(err)
	}
	entries, _, order := readTar(t, out.Bytes())
	var manifest []struct {
		Config   string
		RepoTags []string
		Layers   []string
	}
	if err := json.Unmarshal(entries["manifest.json"], &manifest); err != nil || len(manifest) != 2 {
		t.Fatalf("manifest %+v (%v), want two images", manifest, err)
	}
	layerEntries := 0
	for _, name := range order {
		if strings.HasSuffix(name, "/layer.tar") {
			layerEntries++
		}
	}
	if layerEntries != 1 {
		t.Errorf("the archive holds %d layers, want the shared one once", layerEntries)
	}
	for i, m := range manifest {
		if len(m.RepoTags) != 1 || m.RepoTags[0] != imgs[i].Ref {
			t.Errorf("image %d tagged %v, want %s", i, m.RepoTags, imgs[i].Ref)
		}
		if len(m.Layers) != 1 || !bytes.Equal(entries[m.Layers[0]], base) {
			t.Errorf("image %d has layers %v, want the base", i, m.Layers)
		}
		var config struct{ Config Config }
		if err := json.Unmarshal(entries[m.Config], &config); err != nil || config.Config.Cmd[0] != imgs[i].Config.Cmd[0] {
			t.Errorf("image %d's configuration %s (%v), want its own", i, entries[m.Config], err)
		}
	}
}

// baseLayer writes a one-file layer tarball into dir, as a root file
// system layer made elsewhere; it returns its bytes and its path.
func baseLayer(t *testing.T, dir string) ([]byte, string) {
	t.Helper()
	var base bytes.Buffer
	tw := tar.NewWriter(&base)
	if err := writeEntry(tw, "etc/os-release", 0o644, []byte("ID=debian\n")); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "base.tar")
	if err := os.WriteFile(path, base.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return base.Bytes(), path
}
