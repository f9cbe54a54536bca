package config

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"

	"github.com/storeplatform/storeplatform/internal/codec"
)

// TemporalTLSOn tells whether the Temporal connection uses TLS: any TLS
// setting or an API key turns it on (Temporal Cloud takes API keys over
// TLS only).
func (c Config) TemporalTLSOn() bool {
	return c.TemporalTLSCA != "" || c.TemporalTLSCert != "" || c.TemporalTLSKey != "" ||
		c.TemporalTLSServerName != "" || c.TemporalAPIKey != "" || c.TemporalAPIKeyFile != ""
}

// TemporalTLS reads the TLS files and returns the Temporal connection's TLS
// configuration, or nil when TLS is off. Errors name the setting at fault
// and never show the files' contents.
func (c Config) TemporalTLS() (*tls.Config, error) {
	if !c.TemporalTLSOn() {
		return nil, nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: c.TemporalTLSServerName}
	if tc.ServerName == "" {
		// What gRPC would verify anyway; set here so that the name
		// checked is the one docs/connections.md describes.
		if host, _, err := net.SplitHostPort(c.TemporalAddress); err == nil {
			tc.ServerName = host
		}
	}
	var errs []error
	if c.TemporalTLSCA != "" {
		pool, err := certPool(c.TemporalTLSCA)
		if err != nil {
			errs = append(errs, fmt.Errorf("TEMPORAL_TLS_CA: %w", err))
		}
		tc.RootCAs = pool
	}
	switch {
	case c.TemporalTLSCert != "" && c.TemporalTLSKey == "":
		errs = append(errs, errors.New("TEMPORAL_TLS_CERT: is set without TEMPORAL_TLS_KEY; mTLS needs both"))
	case c.TemporalTLSKey != "" && c.TemporalTLSCert == "":
		errs = append(errs, errors.New("TEMPORAL_TLS_KEY: is set without TEMPORAL_TLS_CERT; mTLS needs both"))
	case c.TemporalTLSCert != "":
		pair, err := keyPair("TEMPORAL_TLS_CERT", c.TemporalTLSCert, "TEMPORAL_TLS_KEY", c.TemporalTLSKey)
		if err != nil {
			errs = append(errs, err)
		}
		tc.Certificates = []tls.Certificate{pair}
	}
	if err := joinErrors(errs); err != nil {
		return nil, err
	}
	return tc, nil
}

// TemporalAPIKeyValue returns the API key from TEMPORAL_API_KEY or the file
// TEMPORAL_API_KEY_FILE names ("" when neither is set).
func (c Config) TemporalAPIKeyValue() (string, error) {
	switch {
	case c.TemporalAPIKey != "" && c.TemporalAPIKeyFile != "":
		return "", errors.New("TEMPORAL_API_KEY: set it or TEMPORAL_API_KEY_FILE, not both")
	case c.TemporalAPIKey != "":
		key := strings.TrimSpace(c.TemporalAPIKey)
		if key == "" {
			return "", errors.New("TEMPORAL_API_KEY: is blank")
		}
		return key, nil
	case c.TemporalAPIKeyFile != "":
		b, err := os.ReadFile(c.TemporalAPIKeyFile)
		if err != nil {
			return "", fmt.Errorf("TEMPORAL_API_KEY_FILE: %w", unwrapPathError(err))
		}
		key := strings.TrimSpace(string(b))
		if key == "" || strings.ContainsAny(key, "\r\n") {
			return "", fmt.Errorf("TEMPORAL_API_KEY_FILE: file %s must hold the key on one line", c.TemporalAPIKeyFile)
		}
		return key, nil
	}
	return "", nil
}

// PayloadCodec loads the payload encryption keys, or returns nil when
// PAYLOAD_CODEC_KEYS_FILE is empty (payloads in the clear).
func (c Config) PayloadCodec() (*codec.Codec, error) {
	if c.PayloadCodecKeysFile == "" {
		return nil, nil
	}
	cd, err := codec.Load(c.PayloadCodecKeysFile)
	var pe *os.PathError
	switch {
	case errors.As(err, &pe):
		return nil, fmt.Errorf("PAYLOAD_CODEC_KEYS_FILE: %w", unwrapPathError(err))
	case err != nil:
		return nil, fmt.Errorf("PAYLOAD_CODEC_KEYS_FILE: file %s: %w", c.PayloadCodecKeysFile, err)
	}
	return cd, nil
}

// validateSecurity reads the TLS, API key and codec key files, so that a
// missing or broken one stops the command at start.
func (c Config) validateSecurity() []error {
	var errs []error
	if _, err := c.TemporalTLS(); err != nil {
		errs = append(errs, err)
	}
	if _, err := c.TemporalAPIKeyValue(); err != nil {
		errs = append(errs, err)
	}
	if _, err := c.PayloadCodec(); err != nil {
		errs = append(errs, err)
	}
	return errs
}

// certPool reads a PEM file of one or more CA certificates.
func certPool(path string) (*x509.CertPool, error) {
	certs, err := readCerts(path)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	for _, c := range certs {
		pool.AddCert(c)
	}
	return pool, nil
}

// readCerts parses every CERTIFICATE block of a PEM file; a file without
// one is an error.
func readCerts(path string) ([]*x509.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, unwrapPathError(err)
	}
	var certs []*x509.Certificate
	for rest := b; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("file %s: a certificate does not parse: %w", path, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("file %s holds no PEM certificate", path)
	}
	return certs, nil
}

// keyPair loads a certificate and its private key, naming the setting of
// the file at fault. The key's contents never reach the error.
func keyPair(certSetting, certPath, keySetting, keyPath string) (tls.Certificate, error) {
	certPEM, err := os.ReadFile(certPath)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("%s: %w", certSetting, unwrapPathError(err))
	}
	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("%s: %w", keySetting, unwrapPathError(err))
	}
	if _, err := readCerts(certPath); err != nil {
		return tls.Certificate{}, fmt.Errorf("%s: %w", certSetting, err)
	}
	if !hasPrivateKey(keyPEM) {
		return tls.Certificate{}, fmt.Errorf("%s: file %s holds no PEM private key", keySetting, keyPath)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		if strings.Contains(err.Error(), "does not match") {
			return tls.Certificate{}, fmt.Errorf("%s: the key in %s does not match the certificate in %s (%s)", keySetting, keyPath, certPath, certSetting)
		}
		return tls.Certificate{}, fmt.Errorf("%s: file %s: the private key does not parse", keySetting, keyPath)
	}
	return pair, nil
}

// hasPrivateKey tells whether a PEM file has a private key block.
func hasPrivateKey(b []byte) bool {
	for rest := b; ; {
		var block *pem.Block
		if block, rest = pem.Decode(rest); block == nil {
			return false
		}
		if strings.HasSuffix(block.Type, "PRIVATE KEY") {
			return true
		}
	}
}

// unwrapPathError turns "open /x: no such file or directory" into
// "file /x: no such file or directory", the form of the other settings'
// errors.
func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("file %s: %w", pe.Path, pe.Err)
	}
	return err
}

// mongoTLSFiles checks the files a MongoDB URI names for TLS, which the
// driver would otherwise read only when it connects (and report as a
// connection failure): tlsCAFile must hold certificates, and
// tlsCertificateKeyFile a certificate and its key. Option names are
// case-insensitive, as the driver takes them.
func mongoTLSFiles(u *url.URL) error {
	var errs []error
	encrypted := false
	for name := range u.Query() {
		if strings.EqualFold(name, "tlsCertificateKeyFilePassword") || strings.EqualFold(name, "sslClientCertificateKeyPassword") {
			encrypted = true
		}
	}
	for name, values := range u.Query() {
		for _, path := range values {
			switch {
			case strings.EqualFold(name, "tlsCAFile") || strings.EqualFold(name, "sslCertificateAuthorityFile"):
				if _, err := readCerts(path); err != nil {
					errs = append(errs, fmt.Errorf("tlsCAFile: %w", err))
				}
			case strings.EqualFold(name, "tlsCertificateKeyFile") || strings.EqualFold(name, "sslClientCertificateKeyFile"):
				if err := mongoCertKeyFile(path, encrypted); err != nil {
					errs = append(errs, fmt.Errorf("tlsCertificateKeyFile: %w", err))
				}
			}
		}
	}
	return joinErrors(errs)
}

// mongoCertKeyFile checks a file holding a client certificate and its key
// (MongoDB's form); an encrypted key is not decrypted here.
func mongoCertKeyFile(path string, encrypted bool) error {
	if _, err := readCerts(path); err != nil {
		return err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return unwrapPathError(err)
	}
	if !hasPrivateKey(b) {
		return fmt.Errorf("file %s holds no PEM private key", path)
	}
	if encrypted {
		return nil
	}
	if _, err := tls.X509KeyPair(b, b); err != nil {
		if strings.Contains(err.Error(), "does not match") {
			return fmt.Errorf("file %s: the private key does not match the certificate", path)
		}
		return fmt.Errorf("file %s: the private key does not parse", path)
	}
	return nil
}
