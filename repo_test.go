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

	"sigs.k8s.io/yaml"
)

func TestDockerComposeIsValidAndComplete(t *testing.T) {
	data, err := os.ReadFile("docker-compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var compose struct {
		Services map[string]struct {
			Image       string            `json:"image"`
			Restart     string            `json:"restart"`
			Build       any               `json:"build"`
			Command     []string          `json:"command"`
			Environment map[string]string `json:"environment"`
			Volumes     []string          `json:"volumes"`
			Ports       []string          `json:"ports"`
			DependsOn   []string          `json:"depends_on"`
		} `json:"services"`
		Name    string         `json:"name"`
		Volumes map[string]any `json:"volumes"`
	}
	if err := yaml.UnmarshalStrict(data, &compose); err != nil {
		t.Fatalf("docker-compose.yaml: %v", err)
	}
	pinned := regexp.MustCompile(`^[a-z0-9./-]+:\d+(\.\d+)+$`)
	for _, name := range []string{"temporal", "mongodb", "api", "worker"} {
		svc, ok := compose.Services[name]
		if !ok {
			t.Errorf("service %s missing", name)
			continue
		}
		if svc.Image == "" && svc.Build == nil {
			t.Errorf("service %s has neither image nor build", name)
		}
		if svc.Image != "" && !pinned.MatchString(svc.Image) {
			t.Errorf("service %s: image %q is not pinned to a version", name, svc.Image)
		}
		for _, dep := range svc.DependsOn {
			if _, ok := compose.Services[dep]; !ok {
				t.Errorf("service %s depends on unknown %s", name, dep)
			}
		}
	}
	for _, name := range []string{"api", "worker"} {
		svc := compose.Services[name]
		if svc.Environment["TEMPORAL_ADDRESS"] != "temporal:7233" || !strings.HasPrefix(svc.Environment["MONGODB_URI"], "mongodb://mongodb:") {
			t.Errorf("service %s does not point at the compose services: %v", name, svc.Environment)
		}
		if svc.Environment["KUBECONFIG"] == "" || len(svc.Volumes) == 0 {
			t.Errorf("service %s does not mount a kubeconfig", name)
		}
	}
	if !strings.Contains(strings.Join(compose.Services["temporal"].Ports, " "), "8233") {
		t.Error("temporal Web UI port 8233 not published")
	}
}

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
