package devstack

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/storeplatform/storeplatform/internal/harness/nodeimage"
)

// The real node's service images, made from the root file system that
// `make node-images` builds (hack/node-images.sh): Debian 12 with Debian's
// PostgreSQL 15 and Redis 7.0. Where the store chart relies on the official
// images' contract, these honour it (docs/real-node.md has the table).
const (
	// PostgresImage is PostgreSQL 15 with the official image's environment
	// (POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DB, PGDATA), UID 999,
	// port 5432 and pg_isready.
	PostgresImage = "docker.io/storeplatform/postgres:15-local"
	// RedisImage is Redis 7.0: redis-server and redis-cli on the PATH, UID
	// 999, port 6379, /data.
	RedisImage = "docker.io/storeplatform/redis:7.0-local"
	// MedusaImage is examples/medusa-store as its Dockerfile builds it:
	// Node 22 and npm, the built app with its production dependencies in
	// /server, UID 1000, port 9000, `medusa start`.
	MedusaImage = "docker.io/storeplatform/medusa-store:local"
	// MedusaImageNext is the same image under a second tag: a store moved
	// to it rolls its Medusa pods out as a new release of the app would.
	MedusaImageNext = "docker.io/storeplatform/medusa-store:local-next"
)

// medusaLayer is the Medusa image's own layer in the bin directory (make
// medusa-image, hack/medusa-image.sh), on top of the services' root file
// system.
const medusaLayer = "images/medusa-layer.tar"

// servicesRootFS is the root file system layer in the bin directory.
const servicesRootFS = "images/services-rootfs.tar"

// debianPath is the PATH of the service images, PostgreSQL's programs
// first (Debian keeps them out of /usr/bin).
const debianPath = "PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// serviceImages are the images made from the root file system at rootfs.
func serviceImages(rootfs string) []nodeimage.Image {
	return []nodeimage.Image{
		{
			Ref: PostgresImage, Layers: []string{rootfs},
			Config: nodeimage.Config{
				Entrypoint: []string{"/usr/local/bin/postgres-entrypoint.sh"}, Cmd: []string{"postgres"},
				Env:  []string{debianPath, "LANG=C.UTF-8", "PGDATA=/var/lib/postgresql/data"},
				User: "999:999", ExposedPorts: map[string]struct{}{"5432/tcp": {}},
			},
		},
		{
			Ref: RedisImage, Layers: []string{rootfs},
			Config: nodeimage.Config{
				Cmd: []string{"redis-server"}, Env: []string{debianPath, "LANG=C.UTF-8"},
				User: "999:999", WorkingDir: "/data", ExposedPorts: map[string]struct{}{"6379/tcp": {}},
			},
		},
	}
}

// medusaImage is MedusaImage made of the root file system at rootfs and
// the app's layer at layer, configured as the Dockerfile's image.
func medusaImage(rootfs, layer string) nodeimage.Image {
	return nodeimage.Image{
		Ref: MedusaImage, Layers: []string{rootfs, layer},
		Config: nodeimage.Config{
			Cmd: []string{"./node_modules/.bin/medusa", "start"},
			Env: []string{
				"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8", "HOME=/home/node",
				"NODE_ENV=production", "PORT=9000", "MEDUSA_UPLOAD_DIR=/server/static", "MEDUSA_DISABLE_TELEMETRY=true",
			},
			User: "1000:1000", WorkingDir: "/server", ExposedPorts: map[string]struct{}{"9000/tcp": {}},
		},
	}
}

// ImportStoreImages imports every image a store on the real node runs:
// PostgresImage, RedisImage, MedusaImage and MedusaImageNext, in one
// archive that carries their shared root file system once. It fails when
// `make node-images medusa-image` has not built them or the stack has no
// real node.
func (s *Stack) ImportStoreImages(ctx context.Context) error {
	built, err := s.builtLayers(servicesRootFS, medusaLayer)
	if err != nil {
		return err
	}
	rootfs, layer := built[0], built[1]
	next := medusaImage(rootfs, layer)
	next.Ref = MedusaImageNext
	return s.ImportImages(ctx, append(serviceImages(rootfs), medusaImage(rootfs, layer), next)...)
}

// ImportServiceImages imports PostgresImage and RedisImage into the real
// node; it fails when `make node-images` has not built their root file
// system or the stack has no real node.
func (s *Stack) ImportServiceImages(ctx context.Context) error {
	built, err := s.builtLayers(servicesRootFS)
	if err != nil {
		return err
	}
	return s.ImportImages(ctx, serviceImages(built[0])...)
}

// builtLayers are the paths of the layer tarballs rel (servicesRootFS,
// medusaLayer), or an error naming the make target that builds the one
// missing.
func (s *Stack) builtLayers(rel ...string) ([]string, error) {
	targets := map[string]string{servicesRootFS: "node-images", medusaLayer: "medusa-image"}
	paths := make([]string, len(rel))
	for i, r := range rel {
		paths[i] = filepath.Join(s.opts.BinDir, r)
		if _, err := os.Stat(paths[i]); err != nil {
			return nil, fmt.Errorf("devstack: %w (run `make %s`)", err, targets[r])
		}
	}
	return paths, nil
}
