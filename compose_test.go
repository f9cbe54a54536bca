package storeplatform_test

import (
	"flag"
	"go/build"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"

	"github.com/storeplatform/storeplatform/internal/config"
)

// loadCompose loads docker-compose.yaml as `docker compose` does, with the
// Compose specification's own loader: interpolation, validation against
// the specification's schema, and the consistency checks (depends_on,
// volumes, networks).
func loadCompose(t *testing.T) *types.Project {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	p, err := loader.LoadWithContext(t.Context(), types.ConfigDetails{
		WorkingDir:  wd,
		ConfigFiles: []types.ConfigFile{{Filename: filepath.Join(wd, "docker-compose.yaml")}},
		Environment: types.Mapping{"HOME": t.TempDir()},
	})
	if err != nil {
		t.Fatalf("docker-compose.yaml: %v", err)
	}
	return p
}

// TestComposeFileLoads: docker-compose.yaml is a valid Compose project whose
// images are pinned, whose platform services are built from this
// repository's Dockerfile, and whose api and worker are wired to the
// compose services: every variable they set is a setting the platform
// knows, the platform's own configuration loader accepts them, and the
// addresses they name are services of the file that serve those ports.
func TestComposeFileLoads(t *testing.T) {
	p := loadCompose(t)
	if p.Name != "storeplatform" {
		t.Errorf("project name %q", p.Name)
	}
	pinned := regexp.MustCompile(`^[a-z0-9./-]+:\d+(\.\d+)+$`)
	for _, name := range []string{"temporal", "mongodb"} {
		svc, err := p.GetService(name)
		if err != nil {
			t.Fatal(err)
		}
		if !pinned.MatchString(svc.Image) {
			t.Errorf("service %s: image %q is not pinned to a version", name, svc.Image)
		}
	}
	web := false
	if svc, err := p.GetService("temporal"); err == nil {
		for _, pc := range svc.Ports {
			web = web || pc.Target == 8233 && pc.Published == "8233"
		}
	}
	if !web {
		t.Error("the temporal service does not publish its Web UI (8233)")
	}
	known := map[string]bool{}
	for _, s := range config.Settings() {
		known[s.Env] = true
	}
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kubeconfig, []byte("apiVersion: v1\nkind: Config\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		service, command string
		want             map[string]string // settings with the one right value
	}{
		{"api", "api", map[string]string{"LISTEN_ADDR": "0.0.0.0:8080"}},
		{"worker", "worker", map[string]string{"WORKER_HTTP_ADDR": "0.0.0.0:9090"}},
	}
	for _, tt := range tests {
		t.Run(tt.service, func(t *testing.T) {
			svc, err := p.GetService(tt.service)
			if err != nil {
				t.Fatal(err)
			}
			if svc.Build == nil || svc.Build.Context != p.WorkingDir || svc.Build.Dockerfile != "Dockerfile" {
				t.Errorf("build %+v, want this directory's Dockerfile", svc.Build)
			}
			if !reflect.DeepEqual([]string(svc.Command), []string{tt.command}) {
				t.Errorf("command %v, want [%s]", svc.Command, tt.command)
			}
			for _, dep := range []string{"temporal", "mongodb"} {
				if _, ok := svc.DependsOn[dep]; !ok {
					t.Errorf("does not depend on %s", dep)
				}
			}
			env := map[string]string{}
			for k, v := range svc.Environment {
				if !known[k] {
					t.Errorf("sets %s, which is no setting of the platform", k)
				}
				if v != nil {
					env[k] = *v
				}
			}
			for k, v := range tt.want {
				if env[k] != v {
					t.Errorf("%s=%q, want %q", k, env[k], v)
				}
			}
			// The platform's own loader, with the mounted kubeconfig
			// standing in as a file of this machine.
			if !mounts(svc, env["KUBECONFIG"]) {
				t.Errorf("KUBECONFIG=%s is not a mounted volume's target", env["KUBECONFIG"])
			}
			local := map[string]string{}
			for k, v := range env {
				local[k] = v
			}
			local["KUBECONFIG"] = kubeconfig
			cfg, err := config.Load(flag.NewFlagSet(tt.command, flag.ContinueOnError), nil, func(k string) string { return local[k] })
			if err != nil {
				t.Fatalf("the platform refuses its environment: %v", err)
			}
			servesPort(t, p, "TEMPORAL_ADDRESS", cfg.TemporalAddress, "temporal", "7233")
			servesPort(t, p, "MONGODB_URI", strings.TrimSuffix(strings.TrimPrefix(cfg.MongoURI, "mongodb://"), "/"), "mongodb", "27017")
			if cfg.ChartDir != "/charts/store" || cfg.ChartVersionsDir != "/charts/versions" {
				t.Errorf("CHART_DIR %s, CHART_VERSIONS_DIR %s: the image has the charts in /charts (COPY charts /charts)", cfg.ChartDir, cfg.ChartVersionsDir)
			}
		})
	}
}

// mounts tells whether one of svc's volumes is mounted at target.
func mounts(svc types.ServiceConfig, target string) bool {
	for _, v := range svc.Volumes {
		if v.Target == target {
			return true
		}
	}
	return false
}

// servesPort checks that addr (host:port) is the compose service named
// host, and port the port it listens on (published by the file).
func servesPort(t *testing.T, p *types.Project, setting, addr, service, port string) {
	t.Helper()
	host, got, err := net.SplitHostPort(addr)
	if err != nil || host != service || got != port {
		t.Errorf("%s=%s, want %s:%s", setting, addr, service, port)
		return
	}
	svc, err := p.GetService(service)
	if err != nil {
		t.Errorf("%s names service %s: %v", setting, service, err)
		return
	}
	for _, pc := range svc.Ports {
		if strconv.Itoa(int(pc.Target)) == port {
			return
		}
	}
	t.Errorf("%s: service %s does not publish port %s", setting, service, port)
}

// goBuild is a `go build` command line: its environment assignments, its
// flags (each with its value, in order) and its package.
type goBuild struct {
	Env     []string
	Flags   []string
	Package string
}

// parseGoBuild finds the one `go build` line in text (a Dockerfile's RUN
// or a Makefile's recipe, with its continuation lines joined) and splits
// it. -o and its value are left out: where the binary goes is each file's
// own business. vars expands Make variables ($(GO), ...).
func parseGoBuild(t *testing.T, name, text string, vars map[string]string) goBuild {
	t.Helper()
	text = strings.ReplaceAll(text, "\\\n", " ")
	var line string
	for _, l := range strings.Split(text, "\n") {
		for k, v := range vars {
			l = strings.ReplaceAll(l, "$("+k+")", v)
		}
		if strings.Contains(l, "go build ") {
			if line != "" {
				t.Fatalf("%s has more than one go build line", name)
			}
			line = l
		}
	}
	if line == "" {
		t.Fatalf("%s has no go build line", name)
	}
	words := splitWords(line[:strings.Index(line, "go build ")])
	var b goBuild
	for _, w := range words {
		if strings.Contains(w, "=") && !strings.HasPrefix(w, "-") {
			b.Env = append(b.Env, w)
		}
	}
	args := splitWords(line[strings.Index(line, "go build ")+len("go build "):])
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "-o":
			i++
		case a == "-ldflags" || a == "-tags" || a == "-gcflags":
			b.Flags = append(b.Flags, a+"="+args[i+1])
			i++
		case strings.HasPrefix(a, "-"):
			b.Flags = append(b.Flags, a)
		default:
			if b.Package != "" {
				t.Fatalf("%s builds more than one package: %s", name, line)
			}
			b.Package = a
		}
	}
	return b
}

// splitWords splits a shell command line at blanks, keeping double-quoted
// words whole (without their quotes).
func splitWords(s string) []string {
	var out []string
	var cur strings.Builder
	quoted, in := false, false
	for _, r := range s {
		switch {
		case r == '"':
			quoted, in = !quoted, true
		case (r == ' ' || r == '\t') && !quoted:
			if in {
				out = append(out, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteRune(r)
			in = true
		}
	}
	if in {
		out = append(out, cur.String())
	}
	return out
}

// TestDockerfileBuildsWhatMakeBuilds: the image's binary is `make build`'s:
// the Dockerfile's build stage runs go build of the same package with the
// same flags and environment as the Makefile's build target, on the Go
// release go.mod names. The image itself is built where Docker is (not
// here: see docs/compose.md).
func TestDockerfileBuildsWhatMakeBuilds(t *testing.T) {
	dockerfile, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	makefile, err := os.ReadFile("Makefile")
	if err != nil {
		t.Fatal(err)
	}
	target := regexp.MustCompile(`(?m)^build:.*\n((?:\t.*\n)+)`).FindSubmatch(makefile)
	if target == nil {
		t.Fatal("Makefile has no build target")
	}
	vars := map[string]string{"GO": "go"}
	for _, m := range regexp.MustCompile(`(?m)^([A-Z_]+)\s*:?=\s*(.*)$`).FindAllSubmatch(makefile, -1) {
		if _, ok := vars[string(m[1])]; !ok {
			vars[string(m[1])] = strings.TrimSpace(string(m[2]))
		}
	}
	vars["GO"] = "go"
	image := parseGoBuild(t, "Dockerfile", string(dockerfile), nil)
	local := parseGoBuild(t, "Makefile's build", string(target[1]), vars)
	if !reflect.DeepEqual(image, local) {
		t.Errorf("the Dockerfile builds %+v, make build %+v", image, local)
	}
	if image.Package != "./cmd/storeplatform" {
		t.Errorf("the Dockerfile builds %s", image.Package)
	}
	if pkg, err := build.ImportDir(filepath.FromSlash(image.Package), 0); err != nil || pkg.Name != "main" {
		t.Errorf("%s is not a main package: %v", image.Package, err)
	}
	gomod, err := os.ReadFile("go.mod")
	if err != nil {
		t.Fatal(err)
	}
	goVersion := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(gomod)
	builder := regexp.MustCompile(`(?m)^FROM golang:(\d+\.\d+)\S* AS build$`).FindSubmatch(dockerfile)
	if goVersion == nil || builder == nil || string(goVersion[1]) != string(builder[1]) {
		t.Errorf("the build stage's Go (%q) is not go.mod's (%q)", builder, goVersion)
	}
}
