package snowflake

import (
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// MinRSABits is the smallest key Snowflake accepts for key-pair authentication.
const MinRSABits = 2048

// maxKeyBytes bounds what is read from a key file: a PEM RSA key is a few KB.
const maxKeyBytes = 64 << 10

// Fingerprint is the public key's fingerprint as Snowflake shows it in DESC USER's
// RSA_PUBLIC_KEY_FP: "SHA256:" and the base64 of the SHA-256 of the DER public key.
func Fingerprint(pub *rsa.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(der)
	return "SHA256:" + base64.StdEncoding.EncodeToString(sum[:]), nil
}

// keySource reads the PEM bytes from the file or the pasted key, reporting the first
// check. ok is false when there is nothing to parse.
func keySource(cfg Config) (data []byte, c Check, ok bool) {
	if len(cfg.PrivateKeyPEM) > 0 {
		return cfg.PrivateKeyPEM, newCheck(CheckPrivateKey, StatusOK,
			"the private key is pasted into the destination and stored sealed; no key file is needed on the server"), true
	}
	path := cfg.PrivateKeyPath
	if path == "" {
		return nil, newCheck(CheckPrivateKey, StatusFail,
			"no private key is configured: give the key file's path or paste the key"), false
	}
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, newCheck(CheckPrivateKey, StatusFail, fmt.Sprintf(
			"private key file %s does not exist on the Rosetta server: copy the key there, or paste the key into the destination instead", path)), false
	case err != nil:
		return nil, newCheck(CheckPrivateKey, StatusFail, fmt.Sprintf(
			"cannot look at private key file %s (%v): make it and its directories readable by the user Rosetta runs as", path, unwrapPath(err))), false
	case fi.IsDir():
		return nil, newCheck(CheckPrivateKey, StatusFail, fmt.Sprintf(
			"%s is a directory, not a private key file: give the path of the key file itself (like %s/rsa_key.p8)", path, path)), false
	case !fi.Mode().IsRegular():
		return nil, newCheck(CheckPrivateKey, StatusFail, fmt.Sprintf(
			"%s is not a regular file: give the path of the private key file", path)), false
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, newCheck(CheckPrivateKey, StatusFail, fmt.Sprintf(
			"the Rosetta server process (uid %d) cannot read %s (%v): chown it to that user and chmod 600 it", os.Getuid(), path, unwrapPath(err))), false
	}
	defer f.Close()
	data, err = io.ReadAll(io.LimitReader(f, maxKeyBytes+1))
	if err != nil {
		return nil, newCheck(CheckPrivateKey, StatusFail, fmt.Sprintf("cannot read %s: %v", path, unwrapPath(err))), false
	}
	if len(data) > maxKeyBytes {
		return nil, newCheck(CheckPrivateKey, StatusFail, fmt.Sprintf(
			"%s is larger than %d KB, too large to be a private key: check the path", path, maxKeyBytes>>10)), false
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return data, newCheck(CheckPrivateKey, StatusWarn, fmt.Sprintf(
			"%s is readable, but group or others may read it too (mode %04o): chmod 600 %s", path, perm, path)), true
	}
	return data, newCheck(CheckPrivateKey, StatusOK, fmt.Sprintf(
		"%s exists and is readable by the Rosetta server only (mode %04o)", path, fi.Mode().Perm())), true
}

// unwrapPath drops the *PathError's repetition of the path and operation.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

const (
	topk8Plain     = "openssl pkcs8 -topk8 -inform PEM -in rsa_key.pem -out rsa_key.p8 -nocrypt"
	topk8Encrypted = "openssl pkcs8 -topk8 -v2 aes-256-cbc -inform PEM -in rsa_key.pem -out rsa_key.p8"
)

// parseKey reads the PEM key, producing the format, passphrase and strength checks and
// the key when all of them allow one.
func parseKey(data, passphrase []byte, user string) (checks []Check, key *rsa.PrivateKey, fp string) {
	block, _ := pem.Decode(data)
	if block == nil {
		return []Check{
			newCheck(CheckKeyFormat, StatusFail, "the private key is not PEM: expected a file beginning with -----BEGIN PRIVATE KEY----- "+
				"or -----BEGIN ENCRYPTED PRIVATE KEY----- (the rsa_key.p8 made by Snowflake's key-pair guide)"),
			skipped(CheckKeyPassphrase), skipped(CheckKeyStrength),
		}, nil, ""
	}
	var parsed any
	var formatCheck, passCheck Check
	switch block.Type {
	case "PRIVATE KEY":
		formatCheck = newCheck(CheckKeyFormat, StatusOK, "PEM, PKCS#8, not encrypted")
		passCheck = plainPassphraseCheck(passphrase)
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			formatCheck = newCheck(CheckKeyFormat, StatusFail, fmt.Sprintf("the PKCS#8 key cannot be parsed (%v): export it again", err))
			return []Check{formatCheck, passCheck, skipped(CheckKeyStrength)}, nil, ""
		}
		parsed = k
	case "ENCRYPTED PRIVATE KEY":
		formatCheck = newCheck(CheckKeyFormat, StatusOK, "PEM, PKCS#8, encrypted")
		if len(passphrase) == 0 {
			passCheck = newCheck(CheckKeyPassphrase, StatusFail,
				"the private key is encrypted but no passphrase is stored: enter the key's passphrase in the destination")
			return []Check{formatCheck, passCheck, skipped(CheckKeyStrength)}, nil, ""
		}
		der, err := decryptPKCS8(block.Bytes, passphrase)
		var k any
		if err == nil {
			k, err = x509.ParsePKCS8PrivateKey(der)
			if err != nil {
				err = errWrongPassphrase
			}
		}
		switch {
		case errors.Is(err, errUnsupportedEncryption):
			formatCheck = newCheck(CheckKeyFormat, StatusFail, fmt.Sprintf(
				"the key's encryption is not supported (%v): re-encrypt it with %s", err, topk8Encrypted))
			return []Check{formatCheck, skipped(CheckKeyPassphrase), skipped(CheckKeyStrength)}, nil, ""
		case err != nil:
			passCheck = newCheck(CheckKeyPassphrase, StatusFail,
				"the stored passphrase does not decrypt the private key: enter the passphrase the key was encrypted with")
			return []Check{formatCheck, passCheck, skipped(CheckKeyStrength)}, nil, ""
		}
		passCheck = newCheck(CheckKeyPassphrase, StatusOK, "the stored passphrase decrypts the private key")
		parsed = k
	case "RSA PRIVATE KEY":
		if _, encrypted := block.Headers["DEK-Info"]; encrypted {
			return []Check{
				newCheck(CheckKeyFormat, StatusFail, "the key is a legacy encrypted PKCS#1 key (BEGIN RSA PRIVATE KEY with DEK-Info), "+
					"which Snowflake's clients do not read: convert it to encrypted PKCS#8 with "+topk8Encrypted),
				skipped(CheckKeyPassphrase), skipped(CheckKeyStrength),
			}, nil, ""
		}
		k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return []Check{newCheck(CheckKeyFormat, StatusFail, fmt.Sprintf("the PKCS#1 key cannot be parsed (%v): export it again", err)),
				skipped(CheckKeyPassphrase), skipped(CheckKeyStrength)}, nil, ""
		}
		formatCheck = newCheck(CheckKeyFormat, StatusWarn, "the key is PKCS#1 (BEGIN RSA PRIVATE KEY); Snowflake's clients expect PKCS#8: "+
			"convert it with "+topk8Plain+" (or, to encrypt it, "+topk8Encrypted+")")
		passCheck = plainPassphraseCheck(passphrase)
		parsed = k
	default:
		return []Check{newCheck(CheckKeyFormat, StatusFail, fmt.Sprintf(
			"the PEM block is %q, not a private key: expected BEGIN PRIVATE KEY or BEGIN ENCRYPTED PRIVATE KEY", block.Type)),
			skipped(CheckKeyPassphrase), skipped(CheckKeyStrength)}, nil, ""
	}

	rk, isRSA := parsed.(*rsa.PrivateKey)
	if !isRSA {
		return []Check{formatCheck, passCheck, newCheck(CheckKeyStrength, StatusFail, fmt.Sprintf(
			"the key is %T, but Snowflake key-pair authentication needs an RSA key: generate one with "+
				"openssl genrsa 2048 | openssl pkcs8 -topk8 -v2 aes-256-cbc -inform PEM -out rsa_key.p8", parsed))}, nil, ""
	}
	fp, err := Fingerprint(&rk.PublicKey)
	if err != nil {
		return []Check{formatCheck, passCheck, newCheck(CheckKeyStrength, StatusFail, fmt.Sprintf("cannot encode the public key: %v", err))}, nil, ""
	}
	bits := rk.N.BitLen()
	if bits < MinRSABits {
		return []Check{formatCheck, passCheck, newCheck(CheckKeyStrength, StatusFail, fmt.Sprintf(
			"the RSA key has %d bits, but Snowflake needs at least %d: generate a new key with "+
				"openssl genrsa 2048 | openssl pkcs8 -topk8 -v2 aes-256-cbc -inform PEM -out rsa_key.p8 and set its public key on the user",
			bits, MinRSABits))}, nil, fp
	}
	return []Check{formatCheck, passCheck, newCheck(CheckKeyStrength, StatusOK, fmt.Sprintf(
		"RSA %d bits; public key fingerprint %s: it must equal RSA_PUBLIC_KEY_FP in DESC USER %s", bits, fp, user))}, rk, fp
}

func plainPassphraseCheck(passphrase []byte) Check {
	if len(passphrase) > 0 {
		return newCheck(CheckKeyPassphrase, StatusWarn,
			"a passphrase is stored but the key is not encrypted, so it is not used: clear the passphrase, or store the encrypted key")
	}
	return newCheck(CheckKeyPassphrase, StatusOK, "the key is not encrypted, so no passphrase is needed")
}

func skipped(name string) Check {
	return newCheck(name, StatusFail, "not checked: fix the check above first")
}
