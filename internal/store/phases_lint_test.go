package store_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestNoPhaseRulesOutsideTheStateMachine: the product's packages compare
// no store phase and write none outside the state machine
// (internal/store/lifecycle.go) and the workflows, whose phase writes go
// through tracker.enter. The harness (chaos, bench, fuzzhttp, testenv)
// reads phases to check invariants and is left out, as are tests.
func TestNoPhaseRulesOutsideTheStateMachine(t *testing.T) {
	root := filepath.Join("..", "..")
	compare := regexp.MustCompile(`(==|!=)\s*store\.Phase[A-Z]|store\.Phase[A-Z]\w*\s*(==|!=)|case\s+store\.Phase[A-Z]|Phase:\s*store\.Phase[A-Z]`)
	for _, dir := range []string{"api", "internal/service", "activities", "worker", "cmd", "internal/auth", "internal/deps", "internal/helmclient", "internal/kubewatch"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for i, line := range strings.Split(string(b), "\n") {
				if compare.MatchString(line) {
					t.Errorf("%s:%d: a phase rule outside the state machine: %s", path, i+1, strings.TrimSpace(line))
				}
			}
			return nil
		})
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
}
