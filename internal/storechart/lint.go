package storechart

import (
	"fmt"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/lint/support"
)

// Lint runs Helm's linter (`helm lint`) on the chart in dir with vals and
// returns every warning and error it reports, one line each; none when the
// chart is lint-clean. The chart tests of both charts use it.
func Lint(dir string, vals map[string]any) []string {
	res := action.NewLint().Run([]string{dir}, vals)
	var out []string
	for _, m := range res.Messages {
		if m.Severity >= support.WarningSev {
			out = append(out, "lint: "+m.Error())
		}
	}
	for _, err := range res.Errors {
		out = append(out, fmt.Sprintf("lint error: %v", err))
	}
	return out
}
