package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writePair writes a self-signed certificate and its key as PEM files in dir.
func writePair(t *testing.T, dir, name string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

func TestTLSFilesComeTogetherAndMustLoad(t *testing.T) {
	dir := t.TempDir()
	cert, key := writePair(t, dir, "a")
	_, otherKey := writePair(t, dir, "b")
	missing := filepath.Join(dir, "missing.pem")

	c, err := LoadFrom(map[string]string{"TLS_CERT_FILE": cert, "TLS_KEY_FILE": key})
	if err != nil || c.TLSCertFile != cert || c.TLSKeyFile != key {
		t.Fatalf("a good pair: %v", err)
	}
	for _, tc := range []struct {
		name    string
		environ map[string]string
		want    string // the variable the message must start with
		notWant string
	}{
		{"certificate without key", map[string]string{"TLS_CERT_FILE": cert}, "TLS_KEY_FILE: is required", "TLS_CERT_FILE:"},
		{"key without certificate", map[string]string{"TLS_KEY_FILE": key}, "TLS_CERT_FILE: is required", "TLS_KEY_FILE:"},
		{"missing certificate", map[string]string{"TLS_CERT_FILE": missing, "TLS_KEY_FILE": key}, "TLS_CERT_FILE: ", "TLS_KEY_FILE:"},
		{"missing key", map[string]string{"TLS_CERT_FILE": cert, "TLS_KEY_FILE": missing}, "TLS_KEY_FILE: ", "TLS_CERT_FILE:"},
		{"certificate file holds the key", map[string]string{"TLS_CERT_FILE": key, "TLS_KEY_FILE": key}, "TLS_CERT_FILE: ", "TLS_KEY_FILE:"},
		{"key of another certificate", map[string]string{"TLS_CERT_FILE": cert, "TLS_KEY_FILE": otherKey}, "TLS_KEY_FILE: ", "TLS_CERT_FILE:"},
	} {
		_, err := LoadFrom(tc.environ)
		if err == nil || !strings.Contains(err.Error(), "\n  "+tc.want) || strings.Contains(err.Error(), "\n  "+tc.notWant) {
			t.Errorf("%s: err = %v, want a line starting %q", tc.name, err, tc.want)
			continue
		}
		if strings.Contains(err.Error(), "PRIVATE KEY") {
			t.Errorf("%s: key material in the message: %v", tc.name, err)
		}
	}
}
