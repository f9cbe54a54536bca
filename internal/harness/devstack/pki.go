package devstack

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// PKI holds the paths of the certificates and keys the local control plane
// uses. Every file lives in one directory and is generated once; later runs
// reuse it so that kubeconfigs and service-account tokens stay valid.
type PKI struct {
	Dir string
}

// File names inside the PKI directory.
const (
	caCert               = "ca.crt"
	caKey                = "ca.key"
	apiserverCert        = "apiserver.crt"
	apiserverKey         = "apiserver.key"
	adminCert            = "admin.crt"
	adminKey             = "admin.key"
	frontProxyCACert     = "front-proxy-ca.crt"
	frontProxyCAKey      = "front-proxy-ca.key"
	frontProxyClientCert = "front-proxy-client.crt"
	frontProxyClientKey  = "front-proxy-client.key"
	serviceAccountKey    = "sa.key"
	serviceAccountPub    = "sa.pub"
	// The client certificates of the real node and of kube-apiserver's calls
	// to kubelets, added to a PKI of an earlier run when missing
	// (ensureClientCert).
	apiserverKubeletCert = "apiserver-kubelet-client.crt"
	apiserverKubeletKey  = "apiserver-kubelet-client.key"
	kubeletClientCert    = "kubelet-client.crt"
	kubeletClientKey     = "kubelet-client.key"
	kubeProxyCert        = "kube-proxy.crt"
	kubeProxyKey         = "kube-proxy.key"
	// The local ingress controller's default certificate, for every
	// store's host (*.<store domain>).
	ingressCert = "ingress.crt"
	ingressKey  = "ingress.key"
)

// Path returns the absolute path of a file of the PKI.
func (p PKI) Path(name string) string { return filepath.Join(p.Dir, name) }

// serviceIP is the first address of the service CIDR: the in-cluster address
// of the "kubernetes" Service, which the apiserver certificate must name.
var serviceIP = net.ParseIP("10.96.0.1")

// EnsurePKI creates the directory's CA, serving and client certificates and
// the service-account key pair unless they already exist. It uses ECDSA P-256
// keys, which every component accepts and which are generated in
// milliseconds.
func EnsurePKI(dir string) (PKI, error) {
	p := PKI{Dir: dir}
	if _, err := os.Stat(p.Path(serviceAccountPub)); err == nil {
		return p, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return p, err
	}
	now := time.Now().Add(-time.Hour)
	validity := 10 * 365 * 24 * time.Hour

	ca, caK, err := selfSigned("store-platform-local-ca", now, validity)
	if err != nil {
		return p, err
	}
	fp, fpK, err := selfSigned("store-platform-front-proxy-ca", now, validity)
	if err != nil {
		return p, err
	}
	leaves := []struct {
		cert, key string
		parent    *x509.Certificate
		parentKey *ecdsa.PrivateKey
		tmpl      x509.Certificate
	}{
		{apiserverCert, apiserverKey, ca, caK, x509.Certificate{
			Subject:     pkix.Name{CommonName: "kube-apiserver"},
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
			IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), serviceIP},
			DNSNames: []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
				"kubernetes.default.svc.cluster.local"},
		}},
		{adminCert, adminKey, ca, caK, x509.Certificate{
			Subject:     pkix.Name{CommonName: "kubernetes-admin", Organization: []string{"system:masters"}},
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		}},
		{frontProxyClientCert, frontProxyClientKey, fp, fpK, x509.Certificate{
			Subject:     pkix.Name{CommonName: "front-proxy-client"},
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		}},
	}
	for _, l := range leaves {
		tmpl := l.tmpl
		tmpl.NotBefore, tmpl.NotAfter = now, now.Add(validity)
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment
		der, key, err := sign(&tmpl, l.parent, l.parentKey)
		if err != nil {
			return p, fmt.Errorf("sign %s: %w", l.cert, err)
		}
		if err := writeCertKey(p.Path(l.cert), p.Path(l.key), der, key); err != nil {
			return p, err
		}
	}
	if err := writeCertKey(p.Path(caCert), p.Path(caKey), ca.Raw, caK); err != nil {
		return p, err
	}
	if err := writeCertKey(p.Path(frontProxyCACert), p.Path(frontProxyCAKey), fp.Raw, fpK); err != nil {
		return p, err
	}
	sa, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return p, err
	}
	if err := writeKey(p.Path(serviceAccountKey), sa); err != nil {
		return p, err
	}
	pub, err := x509.MarshalPKIXPublicKey(&sa.PublicKey)
	if err != nil {
		return p, err
	}
	// The public key is written last: its presence marks a complete PKI.
	return p, writePEM(p.Path(serviceAccountPub), "PUBLIC KEY", pub, 0o644)
}

func selfSigned(cn string, notBefore time.Time, validity time.Duration) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	tmpl := &x509.Certificate{
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             notBefore,
		NotAfter:              notBefore.Add(validity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, key, err := sign(tmpl, nil, nil)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	return cert, key, err
}

// sign creates a key for tmpl and signs it with parentKey, or self-signs
// when parent is nil.
func sign(tmpl, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) ([]byte, *ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 126))
	if err != nil {
		return nil, nil, err
	}
	tmpl.SerialNumber = serial
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	return der, key, err
}

func writeCertKey(certPath, keyPath string, der []byte, key *ecdsa.PrivateKey) error {
	if err := writeKey(keyPath, key); err != nil {
		return err
	}
	return writePEM(certPath, "CERTIFICATE", der, 0o644)
}

func writeKey(path string, key *ecdsa.PrivateKey) error {
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	return writePEM(path, "EC PRIVATE KEY", der, 0o600)
}

func writePEM(path, typ string, der []byte, mode os.FileMode) error {
	data := pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
	if data == nil {
		return errors.New("pem encoding failed for " + path)
	}
	return os.WriteFile(path, data, mode)
}

// ensureClientCert issues a client certificate for subject from the PKI's
// CA into cert and key, unless cert exists. It adds what later versions of
// the stack need to the PKI of an earlier run, whose CA it keeps.
func ensureClientCert(p PKI, cert, key string, subject pkix.Name) error {
	if _, err := os.Stat(p.Path(cert)); err == nil {
		return nil
	}
	return issueLeaf(p, cert, key, x509.Certificate{Subject: subject, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
}

// ensureServingCert issues a serving certificate for dnsNames from the
// PKI's CA into cert and key, unless cert exists and names exactly those.
func ensureServingCert(p PKI, cert, key string, dnsNames []string) error {
	if have, err := readCert(p.Path(cert)); err == nil && slices.Equal(have.DNSNames, dnsNames) {
		return nil
	}
	return issueLeaf(p, cert, key, x509.Certificate{
		Subject: pkix.Name{CommonName: dnsNames[0]}, DNSNames: dnsNames,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
}

// issueLeaf signs tmpl (its subject, names and extended key usage) with
// the PKI's CA, valid as long as the CA, into cert and key.
func issueLeaf(p PKI, cert, key string, tmpl x509.Certificate) error {
	ca, caK, err := loadCA(p)
	if err != nil {
		return err
	}
	tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), ca.NotAfter
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment
	der, k, err := sign(&tmpl, ca, caK)
	if err != nil {
		return fmt.Errorf("sign %s: %w", cert, err)
	}
	return writeCertKey(p.Path(cert), p.Path(key), der, k)
}

// loadCA reads the PKI's CA certificate and key.
func loadCA(p PKI) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	cert, err := readCert(p.Path(caCert))
	if err != nil {
		return nil, nil, err
	}
	keyDER, err := readPEM(p.Path(caKey), "EC PRIVATE KEY")
	if err != nil {
		return nil, nil, err
	}
	key, err := x509.ParseECPrivateKey(keyDER)
	return cert, key, err
}

// readCert parses the PEM certificate in path.
func readCert(path string) (*x509.Certificate, error) {
	der, err := readPEM(path, "CERTIFICATE")
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

// readPEM is the first PEM block of path, which must be of type typ.
func readPEM(path, typ string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != typ {
		return nil, fmt.Errorf("%s: no %s block", path, typ)
	}
	return block.Bytes, nil
}
