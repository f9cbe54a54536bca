package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/storeplatform/storeplatform/internal/harness/testpki"
	"github.com/storeplatform/storeplatform/workflows"
)

// TestPayloadEncryptionOnRealStack runs `storeplatform api` and
// `storeplatform worker` with PAYLOAD_CODEC_KEYS_FILE on the real stack,
// creates a store, and exports its creation workflow's history with the
// temporal CLI: the store's title and admin email are not in it, but are
// when the CLI decodes through the API's codec endpoint with an admin
// token; without the token the endpoint refuses.
func TestPayloadEncryptionOnRealStack(t *testing.T) {
	env.Require(t)
	dir := t.TempDir()
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	keys := testpki.Write(t, dir, "codec-keys", []byte("k1="+base64.StdEncoding.EncodeToString(secret)+"\n"))
	addr := freeAddr(t)
	suffix := fmt.Sprint(time.Now().UnixNano())
	vars := map[string]string{
		"LISTEN_ADDR": addr, "MONGODB_URI": env.MongoURI, "MONGODB_DB": "codec_" + suffix,
		"TEMPORAL_ADDRESS": env.Stack.TemporalAddress(), "TEMPORAL_TASK_QUEUE": "codec-" + suffix,
		"KUBECONFIG": env.Kubeconfig, "LOG_LEVEL": "warn", "STORE_PROFILE": "local",
		"CHART_DIR": filepath.Join(env.RepoRoot, "charts", "store"), "WEB_DIR": "",
		"PAYLOAD_CODEC_KEYS_FILE": keys,
	}
	getenv := func(k string) string { return vars[k] }
	var stdout, stderr bytes.Buffer
	if code := run(t.Context(), []string{"token", "create", "-tenant", "ops", "-role", "admin"}, getenv, &stdout, &stderr); code != 0 {
		t.Fatalf("token create: %d %s", code, stderr.String())
	}
	token := strings.TrimSpace(stdout.String())
	for _, cmd := range []string{"worker", "api"} {
		startCommand(t, cmd, getenv)
	}
	base := "http://" + addr
	waitHealthy(t, base)

	const title, email = "Confidential Candles Ltd", "owner.secret@example.com"
	name := "enc-" + suffix[len(suffix)-6:]
	code, body := apiCall(t, http.MethodPost, base+"/api/stores", token,
		fmt.Sprintf(`{"name":%q,"engine":"woocommerce","title":%q,"adminEmail":%q}`, name, title, email))
	if code != http.StatusAccepted && code != http.StatusCreated {
		t.Fatalf("create: %d %s", code, body)
	}
	generation := waitReady(t, base, token, name)
	wfID := workflows.CreateWorkflowID(name, generation)

	show := func(args ...string) (string, error) {
		t.Helper()
		cmd := exec.CommandContext(t.Context(), filepath.Join(env.RepoRoot, "bin", "temporal"), append([]string{"workflow", "show",
			"--workflow-id", wfID, "--output", "json", "--address", env.Stack.TemporalAddress()}, args...)...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	raw, err := show()
	if err != nil {
		t.Fatalf("temporal workflow show: %v\n%s", err, raw)
	}
	if !strings.Contains(raw, base64.StdEncoding.EncodeToString([]byte("binary/encrypted"))) {
		t.Errorf("the exported history has no encrypted payload:\n%.2000s", raw)
	}
	for _, plain := range []string{title, email} {
		if strings.Contains(raw, plain) || containsBase64Of(raw, plain) {
			t.Errorf("the exported history shows %q in the clear", plain)
		}
	}

	decoded, err := show("--codec-endpoint", base+"/codec", "--codec-auth", "Bearer "+token)
	if err != nil {
		t.Fatalf("temporal workflow show through the codec: %v\n%s", err, decoded)
	}
	for _, plain := range []string{title, email} {
		if !strings.Contains(decoded, plain) && !containsBase64Of(decoded, plain) {
			t.Errorf("the history decoded through the codec endpoint lacks %q", plain)
		}
	}

	refused, err := show("--codec-endpoint", base+"/codec")
	if err == nil {
		t.Errorf("temporal workflow show through the codec without a token worked:\n%.2000s", refused)
	}
	if code, body := apiCall(t, http.MethodPost, base+"/codec/decode", "", `{"payloads":[]}`); code != http.StatusUnauthorized {
		t.Errorf("decode without a token: %d %s", code, body)
	}
}

// containsBase64Of tells whether any base64 string value in the JSON
// document s decodes to something containing plain: how a payload's data
// appears when the CLI does not render it as JSON.
func containsBase64Of(s, plain string) bool {
	var doc any
	if json.Unmarshal([]byte(s), &doc) != nil {
		return false
	}
	var walk func(v any) bool
	walk = func(v any) bool {
		switch v := v.(type) {
		case map[string]any:
			for _, e := range v {
				if walk(e) {
					return true
				}
			}
		case []any:
			for _, e := range v {
				if walk(e) {
					return true
				}
			}
		case string:
			b, err := base64.StdEncoding.DecodeString(v)
			return err == nil && bytes.Contains(b, []byte(plain))
		}
		return false
	}
	return walk(doc)
}

// startCommand runs `storeplatform <cmd>` until the test ends; it must then
// exit cleanly.
func startCommand(t *testing.T, cmd string, getenv func(string) string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var stderr lockedBuffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{cmd}, getenv, io.Discard, &stderr) }()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("%s exited %d: %s", cmd, code, stderr.String())
		}
	})
}

func waitHealthy(t *testing.T, base string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if code, _ := apiCall(t, http.MethodGet, base+"/health", "", ""); code == http.StatusOK {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the api never became healthy")
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// waitReady waits for the store to be ready and returns its generation.
func waitReady(t *testing.T, base, token, name string) int {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	var last struct {
		Phase      string `json:"phase"`
		Generation int    `json:"generation"`
	}
	for time.Now().Before(deadline) {
		if code, body := apiCall(t, http.MethodGet, base+"/api/stores/"+name, token, ""); code == http.StatusOK {
			if err := json.Unmarshal(body, &last); err != nil {
				t.Fatal(err)
			}
			if last.Phase == "ready" {
				return last.Generation
			}
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatalf("store %s never became ready; last %+v", name, last)
	return 0
}

func apiCall(t *testing.T, method, url, token, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, []byte(err.Error())
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, data
}
