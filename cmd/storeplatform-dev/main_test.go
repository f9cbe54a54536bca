package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/storeplatform/storeplatform/internal/auth"
	"github.com/storeplatform/storeplatform/internal/harness/testenv"
)

var env testenv.Env

func TestMain(m *testing.M) { testenv.Main(m, &env) }

// TestUsage: a bad flag, an argument or flags that cannot go together are
// a usage error (exit 2), -h is not an error.
func TestUsage(t *testing.T) {
	for _, tt := range []struct {
		args []string
		code int
	}{
		{[]string{"-no-such-flag"}, 2}, {[]string{"extra"}, 2}, {[]string{"-h"}, 0},
		// The real node joins the local cluster and writes its own store values.
		{[]string{"-real-node", "-kubeconfig", "/tmp/kubeconfig"}, 2},
		{[]string{"-real-node", "-store-values", "/tmp/values.yaml"}, 2},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(t.Context(), tt.args, func(string) string { return "" }, &stdout, &stderr); code != tt.code {
			t.Errorf("%v: exit %d, want %d (stderr %q)", tt.args, code, tt.code, stderr.String())
		}
	}
}

// TestStoreURLNotice: the dashboard is told that nothing serves store URLs
// exactly when the stack's nodes are all simulated: not with a real node,
// not on a cluster of the user's kubeconfig.
func TestStoreURLNotice(t *testing.T) {
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kubeconfig, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{nil, SimulatedNodesNotice},
		{[]string{"-real-node"}, ""},
		{[]string{"-kubeconfig", kubeconfig}, ""},
	} {
		f, err := parseFlags(tt.args, func(string) string { return "" }, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := devConfig(f)
		if err != nil || cfg.StoreURLNotice != tt.want {
			t.Errorf("%v: notice %q (%v), want %q", tt.args, cfg.StoreURLNotice, err, tt.want)
		}
	}
}

// TestDevRevokesItsPreviousAdminToken: every start of `storeplatform-dev`
// makes an admin token; the one of the start before stops working, and
// tokens made otherwise are left alone.
func TestDevRevokesItsPreviousAdminToken(t *testing.T) {
	env.Require(t)
	ctx := t.Context()
	tokens := auth.NewMongoTokens(env.Mongo.Database(fmt.Sprintf("devtok_%d", time.Now().UnixNano())))
	if err := tokens.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	other, _, err := tokens.Create(ctx, "admin", auth.RoleAdmin, "ci", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	first, err := rotateDevToken(ctx, tokens, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	second, err := rotateDevToken(ctx, tokens, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		what, token string
		valid       bool
	}{{"the first start's token", first, false}, {"the second start's token", second, true}, {"a token made by hand", other, true}} {
		if _, err := tokens.Verify(ctx, tt.token); (err == nil) != tt.valid {
			t.Errorf("%s: verify error %v, want valid=%v", tt.what, err, tt.valid)
		}
	}
}
