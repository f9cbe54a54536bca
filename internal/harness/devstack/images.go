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
)

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

// ImportServiceImages imports PostgresImage and RedisImage into the real
// node; it fails when `make node-images` has not built their root file
// system or the stack has no real node.
func (s *Stack) ImportServiceImages(ctx context.Context) error {
	rootfs := filepath.Join(s.opts.BinDir, servicesRootFS)
	if _, err := os.Stat(rootfs); err != nil {
		return fmt.Errorf("devstack: %w (run `make node-images`)", err)
	}
	for _, img := range serviceImages(rootfs) {
		if err := s.ImportImage(ctx, img); err != nil {
			return err
		}
	}
	return nil
}
