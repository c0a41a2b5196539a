// Package sftest gives tests what a working Snowflake destination needs locally: a real
// private key. Tests that start pipelines use it so the destination preflight passes
// its local checks; pointed at OfflineHost, the network checks find Snowflake
// unreachable at once, which (by design) only warns.
package sftest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"sync"
)

// OfflineHost is a snowflake_host where nothing answers on port 443: the connection is
// refused immediately, with no DNS involved.
const OfflineHost = "127.0.0.1"

var (
	once   sync.Once
	keyPEM string
)

// KeyPEM is an unencrypted PKCS#8 RSA 2048 key, made once per test binary (RSA key
// generation takes a while under -race).
func KeyPEM() string {
	once.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			panic(err)
		}
		keyPEM = string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	})
	return keyPEM
}
