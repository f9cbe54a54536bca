package main

import (
	"crypto/tls"
	"flag"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"

	"go.temporal.io/api/workflowservice/v1"

	"github.com/storeplatform/storeplatform/internal/config"
	"github.com/storeplatform/storeplatform/internal/deps"
	"github.com/storeplatform/storeplatform/internal/harness/testpki"
)

// tlsProxy is a TLS-terminating HTTP/2 proxy in front of the dev server,
// which speaks gRPC over cleartext HTTP/2 (h2c). Like a Temporal Cloud or
// an mTLS frontend, it may require a client certificate of its CA and an
// API key as "authorization: Bearer <key>".
type tlsProxy struct {
	addr string
}

func startTLSProxy(t *testing.T, ca *testpki.CA, requireClientCert bool, apiKey string) tlsProxy {
	t.Helper()
	upstream := &url.URL{Scheme: "http", Host: env.Stack.TemporalAddress()}
	var protocols http.Protocols
	protocols.SetUnencryptedHTTP2(true) // h2c with prior knowledge, as gRPC expects
	proxy := &httputil.ReverseProxy{
		Rewrite:       func(r *httputil.ProxyRequest) { r.SetURL(upstream) },
		Transport:     &http.Transport{Protocols: &protocols},
		FlushInterval: -1, // gRPC streams
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if apiKey != "" && r.Header.Get("Authorization") != "Bearer "+apiKey {
			// A trailers-only gRPC answer: status 16, Unauthenticated.
			w.Header().Set("Content-Type", "application/grpc")
			w.Header().Set("Grpc-Status", "16")
			w.Header().Set("Grpc-Message", "missing or wrong API key")
			w.WriteHeader(http.StatusOK)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	srv.EnableHTTP2 = true
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{ca.Server(t).TLS(t)}}
	if requireClientCert {
		srv.TLS.ClientAuth, srv.TLS.ClientCAs = tls.RequireAndVerifyClientCert, ca.Pool()
	}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are the point
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return tlsProxy{addr: strings.TrimPrefix(srv.URL, "https://")}
}

// TestTemporalTLSAndAPIKey dials the real dev server through TLS proxies
// with the settings the commands read, and makes a real call
// (DescribeNamespace) when the connection is to work.
func TestTemporalTLSAndAPIKey(t *testing.T) {
	env.Require(t)
	dir := t.TempDir()
	ca := testpki.NewCA(t, "temporal CA")
	otherCA := testpki.NewCA(t, "another CA")
	client := ca.Client(t, "storeplatform-worker")
	stranger := otherCA.Client(t, "stranger")
	files := map[string]string{
		"ca":           testpki.Write(t, dir, "ca.pem", ca.PEM),
		"otherCA":      testpki.Write(t, dir, "other-ca.pem", otherCA.PEM),
		"cert":         testpki.Write(t, dir, "client.pem", client.CertPEM),
		"key":          testpki.Write(t, dir, "client-key.pem", client.KeyPEM),
		"strangerCert": testpki.Write(t, dir, "stranger.pem", stranger.CertPEM),
		"strangerKey":  testpki.Write(t, dir, "stranger-key.pem", stranger.KeyPEM),
		"apiKey":       testpki.Write(t, dir, "api-key", []byte("right-key\n")),
	}
	plain := startTLSProxy(t, ca, false, "")
	mtls := startTLSProxy(t, ca, true, "")
	keyed := startTLSProxy(t, ca, false, "right-key")

	tests := []struct {
		name  string
		proxy tlsProxy
		env   map[string]string
		// wantErr is a part of the error; "" means the call works. The
		// setting is named where the failure is certain; a refused client
		// certificate shows as a TLS alert or as a broken connection,
		// whichever the client reads first.
		wantErr string
	}{
		{"TLS with the CA", plain, map[string]string{"TEMPORAL_TLS_CA": files["ca"]}, ""},
		{"TLS with the CA, server name given", plain, map[string]string{"TEMPORAL_TLS_CA": files["ca"], "TEMPORAL_TLS_SERVER_NAME": "localhost"}, ""},
		{"another CA", plain, map[string]string{"TEMPORAL_TLS_CA": files["otherCA"]}, "TEMPORAL_TLS_CA: cannot reach Temporal"},
		{"system roots", plain, map[string]string{"TEMPORAL_TLS_SERVER_NAME": "localhost"}, "TEMPORAL_TLS_CA: cannot reach Temporal"},
		{"wrong server name", plain, map[string]string{"TEMPORAL_TLS_CA": files["ca"], "TEMPORAL_TLS_SERVER_NAME": "temporal.example"}, "TEMPORAL_TLS_SERVER_NAME: cannot reach Temporal"},
		{"plaintext to a TLS server", plain, nil, "TEMPORAL_ADDRESS: cannot reach Temporal"},
		{"mTLS without a client certificate", mtls, map[string]string{"TEMPORAL_TLS_CA": files["ca"]}, ": cannot reach Temporal"},
		{"mTLS with a certificate of another CA", mtls, map[string]string{"TEMPORAL_TLS_CA": files["ca"],
			"TEMPORAL_TLS_CERT": files["strangerCert"], "TEMPORAL_TLS_KEY": files["strangerKey"]}, ": cannot reach Temporal"},
		{"mTLS with the client certificate", mtls, map[string]string{"TEMPORAL_TLS_CA": files["ca"],
			"TEMPORAL_TLS_CERT": files["cert"], "TEMPORAL_TLS_KEY": files["key"]}, ""},
		{"API key right", keyed, map[string]string{"TEMPORAL_TLS_CA": files["ca"], "TEMPORAL_API_KEY": "right-key"}, ""},
		{"API key from a file", keyed, map[string]string{"TEMPORAL_TLS_CA": files["ca"], "TEMPORAL_API_KEY_FILE": files["apiKey"]}, ""},
		{"API key wrong", keyed, map[string]string{"TEMPORAL_TLS_CA": files["ca"], "TEMPORAL_API_KEY": "wrong-key"}, "TEMPORAL_API_KEY: cannot reach Temporal"},
		{"API key missing", keyed, map[string]string{"TEMPORAL_TLS_CA": files["ca"]}, "TEMPORAL_ADDRESS: cannot reach Temporal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vars := map[string]string{"TEMPORAL_ADDRESS": tt.proxy.addr, "CONNECT_TIMEOUT": "3s"}
			for k, v := range tt.env {
				vars[k] = v
			}
			fs := flag.NewFlagSet("test", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			cfg, err := config.Load(fs, nil, func(k string) string { return vars[k] })
			if err != nil {
				t.Fatal(err)
			}
			c, _, err := deps.DialTemporal(t.Context(), cfg, slog.New(slog.DiscardHandler))
			if tt.wantErr != "" {
				if err == nil {
					c.Close()
					t.Fatalf("want an error with %q, the dial worked", tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("want an error with %q, got %v", tt.wantErr, err)
				}
				if strings.Contains(err.Error(), "right-key") || strings.Contains(err.Error(), "wrong-key") {
					t.Fatalf("the error shows the API key: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			resp, err := c.WorkflowService().DescribeNamespace(t.Context(), &workflowservice.DescribeNamespaceRequest{Namespace: "default"})
			if err != nil {
				t.Fatal(err)
			}
			if got := resp.GetNamespaceInfo().GetName(); got != "default" {
				t.Fatalf("namespace %q", got)
			}
		})
	}
}
