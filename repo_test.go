// Package storeplatform_test checks repository-level files that no Go
// package owns: the Docker Compose file and the Dockerfile.
package storeplatform_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestDockerfileBuildsNonRootImage(t *testing.T) {
	data, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	if strings.Count(s, "\nFROM ") < 2 {
		t.Error("Dockerfile is not multi-stage")
	}
	if !regexp.MustCompile(`(?m)^USER [1-9][0-9]*`).MatchString(s) {
		t.Error("Dockerfile does not switch to a non-root numeric user")
	}
	if strings.Contains(s, ":latest") {
		t.Error("Dockerfile uses an unpinned :latest image")
	}
	if !strings.Contains(s, "npm ci") || !strings.Contains(s, "ENV WEB_DIR=") {
		t.Error("Dockerfile does not build the dashboard and point WEB_DIR at it")
	}
	ignore, err := os.ReadFile(".dockerignore")
	if err != nil || !strings.Contains(string(ignore), "web/node_modules") {
		t.Error(".dockerignore does not keep web/node_modules out of the build context")
	}
}

// TestChartsNeverGenerateSecrets is `grep -r randAlpha charts/` and its
// relatives: a password generated in a template changes on every upgrade
// while the database on the volume keeps the old one.
func TestChartsNeverGenerateSecrets(t *testing.T) {
	banned := []string{"randAlpha", "randAscii", "randNumeric", "randBytes", "genPrivateKey", "uuidv4"}
	files := 0
	err := filepath.WalkDir("charts", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		files++
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, b := range banned {
			if strings.Contains(string(data), b) {
				t.Errorf("%s uses %s", path, b)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 5 {
		t.Fatalf("only %d files under charts/", files)
	}
}
