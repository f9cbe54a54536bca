package config

import (
	"bytes"
	"encoding/base64"
	"net/url"
	"strings"
	"testing"

	"github.com/storeplatform/storeplatform/internal/harness/testpki"
)

// tlsFiles are PEM files of one CA, a client pair it issued and a key of
// another pair.
type tlsFiles struct {
	ca, cert, key, otherKey, garbage, keysFile, badKeysFile, apiKeyFile, apiKeyTwoLines string
}

func writeTLSFiles(t *testing.T) tlsFiles {
	t.Helper()
	dir := t.TempDir()
	ca := testpki.NewCA(t, "test CA")
	client := ca.Client(t, "worker")
	other := ca.Client(t, "other")
	key := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, 32))
	return tlsFiles{
		ca:             testpki.Write(t, dir, "ca.pem", ca.PEM),
		cert:           testpki.Write(t, dir, "client.pem", client.CertPEM),
		key:            testpki.Write(t, dir, "client-key.pem", client.KeyPEM),
		otherKey:       testpki.Write(t, dir, "other-key.pem", other.KeyPEM),
		garbage:        testpki.Write(t, dir, "garbage.pem", []byte("not PEM at all\n")),
		keysFile:       testpki.Write(t, dir, "codec-keys", []byte("k2="+key+"\nk1="+key+"\n")),
		badKeysFile:    testpki.Write(t, dir, "bad-codec-keys", []byte("k1="+base64.StdEncoding.EncodeToString([]byte("short"))+"\n")),
		apiKeyFile:     testpki.Write(t, dir, "api-key", []byte("file-api-key\n")),
		apiKeyTwoLines: testpki.Write(t, dir, "api-key-2", []byte("one\ntwo\n")),
	}
}

func TestTemporalTLSSettings(t *testing.T) {
	f := writeTLSFiles(t)
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string // the start of the error; "" means valid
		check   func(t *testing.T, c Config)
	}{
		{"no TLS", nil, "", func(t *testing.T, c Config) {
			if tc, err := c.TemporalTLS(); tc != nil || err != nil {
				t.Fatalf("TLS on without settings: %v %v", tc, err)
			}
		}},
		{"CA only", map[string]string{"TEMPORAL_TLS_CA": f.ca}, "", func(t *testing.T, c Config) {
			tc, _ := c.TemporalTLS()
			if tc == nil || tc.RootCAs == nil || len(tc.Certificates) != 0 || tc.ServerName != "127.0.0.1" {
				t.Fatalf("got %+v", tc)
			}
		}},
		{"mTLS with server name", map[string]string{"TEMPORAL_TLS_CA": f.ca, "TEMPORAL_TLS_CERT": f.cert, "TEMPORAL_TLS_KEY": f.key,
			"TEMPORAL_TLS_SERVER_NAME": "temporal.internal"}, "", func(t *testing.T, c Config) {
			tc, _ := c.TemporalTLS()
			if tc == nil || len(tc.Certificates) != 1 || tc.ServerName != "temporal.internal" {
				t.Fatalf("got %+v", tc)
			}
		}},
		{"API key turns TLS on with the system roots", map[string]string{"TEMPORAL_API_KEY": " the-key "}, "", func(t *testing.T, c Config) {
			tc, _ := c.TemporalTLS()
			key, _ := c.TemporalAPIKeyValue()
			if tc == nil || tc.RootCAs != nil || key != "the-key" {
				t.Fatalf("got %+v, key %q", tc, key)
			}
		}},
		{"API key from a file", map[string]string{"TEMPORAL_API_KEY_FILE": f.apiKeyFile}, "", func(t *testing.T, c Config) {
			if key, _ := c.TemporalAPIKeyValue(); key != "file-api-key" {
				t.Fatalf("key %q", key)
			}
		}},
		{"codec keys", map[string]string{"PAYLOAD_CODEC_KEYS_FILE": f.keysFile}, "", func(t *testing.T, c Config) {
			cd, err := c.PayloadCodec()
			if err != nil || cd.CurrentKeyID() != "k2" {
				t.Fatalf("codec %v, %v", cd, err)
			}
		}},
		{"missing CA file", map[string]string{"TEMPORAL_TLS_CA": "/nonexistent/ca.pem"}, "TEMPORAL_TLS_CA: file /nonexistent/ca.pem: no such file", nil},
		{"CA file not PEM", map[string]string{"TEMPORAL_TLS_CA": f.garbage}, "TEMPORAL_TLS_CA: file " + f.garbage + " holds no PEM certificate", nil},
		{"CA file is a key", map[string]string{"TEMPORAL_TLS_CA": f.key}, "TEMPORAL_TLS_CA: file " + f.key + " holds no PEM certificate", nil},
		{"cert without key", map[string]string{"TEMPORAL_TLS_CERT": f.cert}, "TEMPORAL_TLS_CERT: is set without TEMPORAL_TLS_KEY", nil},
		{"key without cert", map[string]string{"TEMPORAL_TLS_KEY": f.key}, "TEMPORAL_TLS_KEY: is set without TEMPORAL_TLS_CERT", nil},
		{"key of another certificate", map[string]string{"TEMPORAL_TLS_CERT": f.cert, "TEMPORAL_TLS_KEY": f.otherKey},
			"TEMPORAL_TLS_KEY: the key in " + f.otherKey + " does not match the certificate", nil},
		{"cert file not PEM", map[string]string{"TEMPORAL_TLS_CERT": f.garbage, "TEMPORAL_TLS_KEY": f.key}, "TEMPORAL_TLS_CERT: file " + f.garbage + " holds no PEM certificate", nil},
		{"key file is a certificate", map[string]string{"TEMPORAL_TLS_CERT": f.cert, "TEMPORAL_TLS_KEY": f.cert}, "TEMPORAL_TLS_KEY: file " + f.cert + " holds no PEM private key", nil},
		{"API key twice", map[string]string{"TEMPORAL_API_KEY": "k", "TEMPORAL_API_KEY_FILE": f.apiKeyFile}, "TEMPORAL_API_KEY: set it or TEMPORAL_API_KEY_FILE, not both", nil},
		{"blank API key", map[string]string{"TEMPORAL_API_KEY": "  "}, "TEMPORAL_API_KEY: is blank", nil},
		{"missing API key file", map[string]string{"TEMPORAL_API_KEY_FILE": "/nonexistent/key"}, "TEMPORAL_API_KEY_FILE: file /nonexistent/key: no such file", nil},
		{"API key file of two lines", map[string]string{"TEMPORAL_API_KEY_FILE": f.apiKeyTwoLines}, "TEMPORAL_API_KEY_FILE: file " + f.apiKeyTwoLines + " must hold the key on one line", nil},
		{"missing codec keys file", map[string]string{"PAYLOAD_CODEC_KEYS_FILE": "/nonexistent/keys"}, "PAYLOAD_CODEC_KEYS_FILE: file /nonexistent/keys: no such file", nil},
		{"short codec key", map[string]string{"PAYLOAD_CODEC_KEYS_FILE": f.badKeysFile}, "PAYLOAD_CODEC_KEYS_FILE: file " + f.badKeysFile + `: key "k1": is 5 bytes, want 32`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := load(t, tt.env)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				tt.check(t, c)
				return
			}
			if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
				t.Fatalf("want an error starting %q, got %v", tt.wantErr, err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error is not one line: %q", err)
			}
		})
	}
}

// TestSecretsStayOutOfErrors: errors about the API key and the key files
// show neither the key nor the files' contents.
func TestSecretsStayOutOfErrors(t *testing.T) {
	f := writeTLSFiles(t)
	_, err := load(t, map[string]string{"TEMPORAL_API_KEY": "hunter2-api-key", "TEMPORAL_API_KEY_FILE": f.apiKeyFile,
		"TEMPORAL_TLS_CERT": f.cert, "TEMPORAL_TLS_KEY": f.otherKey})
	if err == nil {
		t.Fatal("want an error")
	}
	for _, secret := range []string{"hunter2-api-key", "file-api-key", "PRIVATE KEY"} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("the error shows %q: %v", secret, err)
		}
	}
}

func TestMongoTLSFiles(t *testing.T) {
	dir := t.TempDir()
	ca := testpki.NewCA(t, "mongo CA")
	client := ca.Client(t, "storeplatform")
	other := ca.Client(t, "other")
	caFile := testpki.Write(t, dir, "ca.pem", ca.PEM)
	certKey := testpki.Write(t, dir, "client.pem", append(append([]byte{}, client.CertPEM...), client.KeyPEM...))
	mismatched := testpki.Write(t, dir, "mismatched.pem", append(append([]byte{}, client.CertPEM...), other.KeyPEM...))
	certOnly := testpki.Write(t, dir, "cert-only.pem", client.CertPEM)
	uri := func(q string) string { return "mongodb://user:hunter2@db.example:27017/?" + q }
	tests := []struct {
		name    string
		uri     string
		wantErr string // "" means valid
	}{
		{"tls=true alone", uri("tls=true"), ""},
		// The driver resolves a mongodb+srv URI's SRV record when it parses
		// it, which an offline test cannot; its TLS files are checked first.
		{"srv URI's CA file", "mongodb+srv://user:hunter2@cluster0.example.mongodb.net/?tlsCAFile=/nonexistent/ca.pem", "MONGODB_URI: tlsCAFile: file /nonexistent/ca.pem: no such file"},
		{"CA file", uri("tls=true&tlsCAFile=" + url.QueryEscape(caFile)), ""},
		{"CA and client files", uri("tls=true&tlsCAFile=" + url.QueryEscape(caFile) + "&tlsCertificateKeyFile=" + url.QueryEscape(certKey)), ""},
		{"option names are case-insensitive", uri("tls=true&tlscafile=/nonexistent/ca.pem"), "MONGODB_URI: tlsCAFile: file /nonexistent/ca.pem: no such file"},
		{"missing CA file", uri("tls=true&tlsCAFile=/nonexistent/ca.pem"), "MONGODB_URI: tlsCAFile: file /nonexistent/ca.pem: no such file"},
		{"CA file without a certificate", uri("tls=true&tlsCAFile=" + url.QueryEscape(testpki.Write(t, dir, "junk", []byte("junk")))), "MONGODB_URI: tlsCAFile: file " + dir + "/junk holds no PEM certificate"},
		{"client file without its key", uri("tls=true&tlsCertificateKeyFile=" + url.QueryEscape(certOnly)), "MONGODB_URI: tlsCertificateKeyFile: file " + certOnly + " holds no PEM private key"},
		{"client file with another key", uri("tls=true&tlsCertificateKeyFile=" + url.QueryEscape(mismatched)), "MONGODB_URI: tlsCertificateKeyFile: file " + mismatched + ": the private key does not match the certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := load(t, map[string]string{"MONGODB_URI": tt.uri})
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
				t.Fatalf("want an error starting %q, got %v", tt.wantErr, err)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Fatalf("the error shows the password: %v", err)
			}
		})
	}
}
