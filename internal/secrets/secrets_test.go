package secrets

import (
	"bytes"
	"errors"
	"testing"
)

func TestSealOpenRoundTrip(t *testing.T) {
	b, err := NewBox("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := b.Seal("s3cr3t-p4ss")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("s3cr3t-p4ss")) {
		t.Fatal("sealed value contains the plaintext")
	}
	got, err := b.Open(sealed)
	if err != nil || got != "s3cr3t-p4ss" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	again, _ := b.Seal("s3cr3t-p4ss")
	if bytes.Equal(sealed, again) {
		t.Fatal("two seals of one plaintext are identical: nonce reuse")
	}
}

func TestTamperAndWrongKey(t *testing.T) {
	b, _ := NewBox("key-one")
	other, _ := NewBox("key-two")
	sealed, _ := b.Seal("pw")
	if _, err := other.Open(sealed); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("other key: err = %v, want ErrUnknownKey", err)
	}
	sealed[len(sealed)-1] ^= 1
	if _, err := b.Open(sealed); err == nil {
		t.Fatal("tampered ciphertext opened")
	}
}

func TestRotationReadsOldKey(t *testing.T) {
	old, _ := NewBox("old-key")
	sealed, _ := old.Seal("pw")
	rotated, _ := NewBox("new-key", "old-key")
	if rotated.IsPrimary(sealed) {
		t.Fatal("old value reported as sealed under the new primary")
	}
	got, err := rotated.Open(sealed)
	if err != nil || got != "pw" {
		t.Fatalf("Open old = %q, %v", got, err)
	}
	resealed, _ := rotated.Seal(got)
	if !rotated.IsPrimary(resealed) {
		t.Fatal("resealed value not under primary")
	}
	if _, err := old.Open(resealed); err == nil {
		t.Fatal("old box opened a value sealed under the new key")
	}
}
