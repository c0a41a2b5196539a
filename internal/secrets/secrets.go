// Package secrets seals credentials at rest with AES-256-GCM. Every sealed value starts
// with a version byte and the sealing key's id, so a key rotation can tell which key
// opens which row and keep reading old rows until every one is re-sealed.
package secrets

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
)

const (
	version  = 1
	idLen    = 8
	nonceLen = 12
	// purpose binds derived keys to this use, so SECRET_KEY can also feed other derivations
	// (session keys, CSRF) without those ever equalling the sealing key.
	purpose = "rosetta credential sealing v1"
)

var ErrUnknownKey = errors.New("secrets: sealed with a key this instance does not have")

type key struct {
	id   [idLen]byte
	aead cipher.AEAD
}

// Box seals with its primary key and opens with any key it holds.
type Box struct {
	primary key
	others  []key
}

// NewBox derives the primary key from secret and fallback keys from olds (previous
// SECRET_KEY values, accepted for reading during a rotation).
func NewBox(secret string, olds ...string) (*Box, error) {
	if secret == "" {
		return nil, errors.New("secrets: empty secret key")
	}
	p, err := derive(secret)
	if err != nil {
		return nil, err
	}
	b := &Box{primary: p}
	for _, o := range olds {
		if o == "" {
			continue
		}
		k, err := derive(o)
		if err != nil {
			return nil, err
		}
		b.others = append(b.others, k)
	}
	return b, nil
}

func derive(secret string) (key, error) {
	raw, err := hkdf.Key(sha256.New, []byte(secret), nil, purpose, 32)
	if err != nil {
		return key{}, err
	}
	block, err := aes.NewCipher(raw)
	if err != nil {
		return key{}, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return key{}, err
	}
	var k key
	sum := sha256.Sum256(append([]byte("rosetta key id\x00"), raw...))
	copy(k.id[:], sum[:idLen])
	k.aead = aead
	return k, nil
}

// KeyID is the primary key's id, hex-encoded (safe to log: it reveals nothing of the key).
func (b *Box) KeyID() string { return hex.EncodeToString(b.primary.id[:]) }

// Seal encrypts plaintext under the primary key. The key id is authenticated as
// associated data, so a ciphertext cannot be relabelled to another key.
func (b *Box) Seal(plaintext string) ([]byte, error) {
	out := make([]byte, 1+idLen+nonceLen, 1+idLen+nonceLen+len(plaintext)+b.primary.aead.Overhead())
	out[0] = version
	copy(out[1:], b.primary.id[:])
	nonce := out[1+idLen:]
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return b.primary.aead.Seal(out, nonce, []byte(plaintext), out[:1+idLen]), nil
}

// Open decrypts a value produced by Seal under any key the box holds.
func (b *Box) Open(sealed []byte) (string, error) {
	if len(sealed) < 1+idLen+nonceLen || sealed[0] != version {
		return "", errors.New("secrets: not a sealed value")
	}
	k, ok := b.keyFor(sealed[1 : 1+idLen])
	if !ok {
		return "", ErrUnknownKey
	}
	nonce := sealed[1+idLen : 1+idLen+nonceLen]
	pt, err := k.aead.Open(nil, nonce, sealed[1+idLen+nonceLen:], sealed[:1+idLen])
	if err != nil {
		return "", fmt.Errorf("secrets: cannot open sealed value: %w", err)
	}
	return string(pt), nil
}

// IsPrimary reports whether sealed was sealed under the primary key (rotation skips those).
func (b *Box) IsPrimary(sealed []byte) bool {
	return len(sealed) >= 1+idLen && string(sealed[1:1+idLen]) == string(b.primary.id[:])
}

func (b *Box) keyFor(id []byte) (key, bool) {
	if string(id) == string(b.primary.id[:]) {
		return b.primary, true
	}
	for _, k := range b.others {
		if string(id) == string(k.id[:]) {
			return k, true
		}
	}
	return key{}, false
}
