package storeplatform_test

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/storeplatform/storeplatform/"

// goList runs `go list` with args and returns its lines.
func goList(t *testing.T, args ...string) []string {
	t.Helper()
	out, err := exec.Command("go", append([]string{"list"}, args...)...).Output()
	if err != nil {
		t.Fatalf("go list %v: %v", args, err)
	}
	return strings.Fields(string(out))
}

// TestImageBinaryLinksNoDevStack: the binary of the platform's image
// (cmd/storeplatform, what the Dockerfile builds) links neither the local
// stack (internal/harness/devstack, nor any other part of the harness) nor
// the embedded FerretDB; storeplatform-dev does.
func TestImageBinaryLinksNoDevStack(t *testing.T) {
	for _, tt := range []struct {
		pkg  string
		want bool
	}{{"./cmd/storeplatform", false}, {"./cmd/storeplatform-dev", true}} {
		var ferret, harness bool
		for _, dep := range goList(t, "-deps", tt.pkg) {
			ferret = ferret || strings.HasPrefix(dep, "github.com/FerretDB/")
			harness = harness || strings.HasPrefix(dep, module+"internal/harness/devstack")
		}
		if ferret != tt.want || harness != tt.want {
			t.Errorf("%s links FerretDB: %v, devstack: %v; want %v", tt.pkg, ferret, harness, tt.want)
		}
	}
}

// TestImportsFlowOneWay: the product's packages never import the harness
// (internal/harness/...); the libraries (internal/... but the API's service
// and internal/platform) import none of the floors above them; only the
// commands and the harness import internal/platform, which assembles the
// platform. Test files are left out: they may use the harness.
func TestImportsFlowOneWay(t *testing.T) {
	upper := []string{"api", "workflows", "activities", "worker", "internal/service", "internal/platform"}
	for _, line := range goList(t, "-f", `{{.ImportPath}}={{join .Imports ","}}`, "./...") {
		pkg, imports, _ := strings.Cut(line, "=")
		pkg = strings.TrimPrefix(pkg, module)
		harness := strings.HasPrefix(pkg, "internal/harness/") || pkg == "cmd/storeplatform-dev"
		library := strings.HasPrefix(pkg, "internal/") && !harness && !hasAnyPrefix(pkg, upper)
		for _, imp := range strings.Split(imports, ",") {
			own, ok := strings.CutPrefix(imp, module)
			if !ok {
				continue
			}
			switch {
			case !harness && strings.HasPrefix(own, "internal/harness/"):
				t.Errorf("%s (product) imports the harness's %s", pkg, own)
			case library && hasAnyPrefix(own, upper):
				t.Errorf("%s (a library) imports %s, a floor above it", pkg, own)
			case own == "internal/platform" && !harness && !strings.HasPrefix(pkg, "cmd/"):
				t.Errorf("%s imports internal/platform: only the commands and the harness assemble the platform", pkg)
			}
		}
	}
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if s == p || strings.HasPrefix(s, p+"/") {
			return true
		}
	}
	return false
}
