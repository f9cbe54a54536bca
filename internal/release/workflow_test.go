package release_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// allowedActions are the only actions the release workflow may use; each
// is pinned to a major version (@vN) or a commit.
var allowedActions = map[string]bool{
	"actions/checkout":                true,
	"docker/setup-qemu-action":        true,
	"docker/setup-buildx-action":      true,
	"docker/login-action":             true,
	"docker/metadata-action":          true,
	"docker/build-push-action":        true,
	"actions/attest-build-provenance": true,
}

// pushPermissions are the token's permissions of the job that pushes the
// image, exactly: read the repository, push the package, get an OIDC token
// for the attestation's signature and write the attestation.
var pushPermissions = map[string]string{"contents": "read", "packages": "write", "id-token": "write", "attestations": "write"}

// platforms are those the image is built for.
var platforms = []string{"linux/amd64", "linux/arm64"}

// workflow is what check reads of a GitHub Actions workflow.
type workflow struct {
	On map[string]any `json:"on"`
	// OnYAML11 is the bare key on, which YAML 1.1 (what sigs.k8s.io/yaml
	// reads) takes for the boolean true; GitHub reads it as "on".
	OnYAML11    map[string]any    `json:"true"`
	Permissions map[string]string `json:"permissions"`
	Env         map[string]string `json:"env"`
	Jobs        map[string]struct {
		Permissions map[string]string `json:"permissions"`
		Steps       []step            `json:"steps"`
	} `json:"jobs"`
}

type step struct {
	ID   string            `json:"id,omitempty"`
	Name string            `json:"name,omitempty"`
	Uses string            `json:"uses,omitempty"`
	If   string            `json:"if,omitempty"`
	Run  string            `json:"run,omitempty"`
	With map[string]any    `json:"with,omitempty"`
	Env  map[string]string `json:"env,omitempty"`
}

var (
	pinned     = regexp.MustCompile(`^([\w.-]+/[\w.-]+)@(v\d+|[0-9a-f]{40})$`)
	stepOutput = regexp.MustCompile(`steps\.([A-Za-z_][\w-]*)\.outputs\.`)
	envRef     = regexp.MustCompile(`\$\{\{\s*env\.(\w+)\s*\}\}`)
)

// check returns what is wrong with the release workflow in data, for the
// repository at root whose chart's default image is image; nothing when
// it is right.
func check(data []byte, root, image string) []string {
	var wf workflow
	if err := yaml.Unmarshal(data, &wf); err != nil {
		return []string{err.Error()}
	}
	var problems []string
	fail := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	resolve := func(v any) string {
		return envRef.ReplaceAllStringFunc(fmt.Sprint(v), func(ref string) string {
			if val, ok := wf.Env[envRef.FindStringSubmatch(ref)[1]]; ok {
				return val
			}
			return ref
		})
	}

	on := wf.On
	if on == nil {
		on = wf.OnYAML11
	}
	push, _ := on["push"].(map[string]any)
	if tags, _ := push["tags"].([]any); !slices.Contains(tags, any("v*")) {
		fail("on.push.tags %v has no v*: a version tag would publish nothing", push["tags"])
	}
	if _, ok := on["workflow_dispatch"]; !ok {
		fail("on has no workflow_dispatch: a release cannot be run again by hand")
	}

	builds, attests := 0, 0
	for _, name := range slices.Sorted(maps.Keys(wf.Jobs)) {
		job := wf.Jobs[name]
		perms := job.Permissions
		if perms == nil {
			perms = wf.Permissions
		}
		var metaID, buildID string
		ids := map[string]bool{}
		for i, s := range job.Steps {
			at := fmt.Sprintf("jobs.%s.steps[%d]", name, i)
			raw, err := json.Marshal(s)
			if err != nil {
				fail("%s: %v", at, err)
			}
			for _, m := range stepOutput.FindAllStringSubmatch(string(raw), -1) {
				if !ids[m[1]] {
					fail("%s reads the outputs of steps.%s, and no earlier step of job %s has id %s", at, m[1], name, m[1])
				}
			}
			if s.ID != "" {
				ids[s.ID] = true
			}
			if s.Uses == "" {
				continue
			}
			m := pinned.FindStringSubmatch(s.Uses)
			if m == nil {
				fail("%s: uses %s, which is not pinned to a major version (@vN) or a commit", at, s.Uses)
				continue
			}
			if !allowedActions[m[1]] {
				fail("%s: uses %s, which is not an allowed action", at, m[1])
				continue
			}
			with := func(key string) string {
				if v, ok := s.With[key]; ok {
					return fmt.Sprint(v)
				}
				return ""
			}
			switch m[1] {
			case "docker/login-action":
				if host, _, _ := strings.Cut(image, "/"); with("registry") != host {
					fail("%s logs in to registry %q, want %s (the image's)", at, with("registry"), host)
				}
				if with("password") != "${{ secrets.GITHUB_TOKEN }}" {
					fail("%s logs in with %q, want the job's GITHUB_TOKEN", at, with("password"))
				}
			case "docker/metadata-action":
				metaID = s.ID
				if got := resolve(s.With["images"]); got != image {
					fail("%s names image %s, want the chart's default image.repository %s", at, got, image)
				}
				if !slices.Contains(strings.Fields(with("tags")), "type=semver,pattern={{version}}") {
					fail("%s does not tag the version without its v (type=semver,pattern={{version}}), which the chart pulls as its appVersion", at)
				}
			case "docker/build-push-action":
				builds++
				buildID = s.ID
				if !maps.Equal(perms, pushPermissions) {
					fail("job %s pushes with permissions %v, want exactly %v", name, perms, pushPermissions)
				}
				if fi, err := os.Stat(filepath.Join(root, with("context"))); with("context") == "" || err != nil || !fi.IsDir() {
					fail("%s: context %q is not a directory of the repository", at, with("context"))
				}
				if fi, err := os.Stat(filepath.Join(root, with("file"))); with("file") == "" || err != nil || fi.IsDir() {
					fail("%s: file %q is not a file of the repository", at, with("file"))
				}
				var got []string
				for _, p := range strings.Split(with("platforms"), ",") {
					got = append(got, strings.TrimSpace(p))
				}
				slices.Sort(got)
				if !slices.Equal(got, platforms) {
					fail("%s builds platforms %v, want %v", at, got, platforms)
				}
				if with("push") != "true" || with("provenance") != "mode=max" || with("sbom") != "true" {
					fail("%s: push %q, provenance %q, sbom %q; want true, mode=max, true", at, with("push"), with("provenance"), with("sbom"))
				}
				if want := "${{ steps." + metaID + ".outputs.tags }}"; metaID == "" || with("tags") != want {
					fail("%s tags %q, want the metadata step's tags", at, with("tags"))
				}
			case "actions/attest-build-provenance":
				attests++
				if got := resolve(s.With["subject-name"]); got != image {
					fail("%s attests %s, want %s", at, got, image)
				}
				if want := "${{ steps." + buildID + ".outputs.digest }}"; buildID == "" || with("subject-digest") != want {
					fail("%s attests digest %q, want the build step's pushed digest", at, with("subject-digest"))
				}
			}
		}
	}
	if builds != 1 || attests != 1 {
		fail("%d docker/build-push-action and %d actions/attest-build-provenance steps, want one of each", builds, attests)
	}
	return problems
}

// repoRoot is the directory above the working directory holding go.mod.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		up := filepath.Dir(dir)
		if up == dir {
			t.Fatal("no go.mod above the working directory")
		}
		dir = up
	}
}

// releaseWorkflow returns the repository's root, release.yaml and the
// chart's default image.repository.
func releaseWorkflow(t *testing.T) (root string, data []byte, image string) {
	t.Helper()
	root = repoRoot(t)
	data, err := os.ReadFile(filepath.Join(root, ".github", "workflows", "release.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(root, "charts", "store-platform", "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var vals struct {
		Image struct {
			Repository string `json:"repository"`
		} `json:"image"`
	}
	if err := yaml.Unmarshal(raw, &vals); err != nil {
		t.Fatal(err)
	}
	if vals.Image.Repository == "" {
		t.Fatal("charts/store-platform/values.yaml has no image.repository")
	}
	return root, data, vals.Image.Repository
}

// TestReleaseWorkflow: .github/workflows/release.yaml runs on version
// tags, uses only allowed actions pinned to a version, pushes the chart's
// default image for amd64 and arm64 from the repository's Dockerfile with
// an SBOM and provenance, attests the digest it pushed, and has the
// permissions for that and no more.
func TestReleaseWorkflow(t *testing.T) {
	root, data, image := releaseWorkflow(t)
	for _, p := range check(data, root, image) {
		t.Error(p)
	}
}

// TestCheckRejectsBrokenWorkflows: check finds each fault put into the
// release workflow, and only it.
func TestCheckRejectsBrokenWorkflows(t *testing.T) {
	root, data, image := releaseWorkflow(t)
	good := string(data)
	for _, tt := range []struct {
		name     string
		old, new string
		want     []string // in each problem, in order
	}{
		{"no version tags", `tags: ["v*"]`, `tags: ["release-*"]`, []string{"has no v*"}},
		{"no manual run", "  workflow_dispatch:\n", "", []string{"no workflow_dispatch"}},
		{"unpinned action", "docker/login-action@v3", "docker/login-action@master", []string{"not pinned"}},
		{"action of another owner", "actions/checkout@v4", "someone/checkout@v4", []string{"someone/checkout, which is not an allowed action"}},
		{"missing permission", "  id-token: write\n", "", []string{"pushes with permissions"}},
		{"unknown step id", "steps.meta.outputs.labels", "steps.metadata.outputs.labels", []string{"no earlier step of job image has id metadata"}},
		{"step's own outputs", "steps.meta.outputs.labels", "steps.build.outputs.metadata", []string{"no earlier step of job image has id build"}},
		{"another image", "IMAGE: ghcr.io/storeplatform/storeplatform", "IMAGE: ghcr.io/someone/storeplatform",
			[]string{"names image ghcr.io/someone/storeplatform", "attests ghcr.io/someone/storeplatform"}},
		{"Dockerfile missing", "file: Dockerfile", "file: Dockerfile.release", []string{`file "Dockerfile.release"`}},
		{"one platform", "platforms: linux/amd64,linux/arm64", "platforms: linux/amd64", []string{"builds platforms [linux/amd64]"}},
		{"no provenance", "provenance: mode=max", "provenance: false", []string{`provenance "false"`}},
		{"digest of no step", "steps.build.outputs.digest", "steps.meta.outputs.digest", []string{"want the build step's pushed digest"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if strings.Count(good, tt.old) != 1 {
				t.Fatalf("release.yaml holds %q %d times, want once", tt.old, strings.Count(good, tt.old))
			}
			got := check([]byte(strings.Replace(good, tt.old, tt.new, 1)), root, image)
			ok := len(got) == len(tt.want)
			for i := 0; ok && i < len(got); i++ {
				ok = strings.Contains(got[i], tt.want[i])
			}
			if !ok {
				t.Fatalf("problems %q, want one each containing %q", got, tt.want)
			}
		})
	}
}
