package miniapp

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/openmini/openmini"
)

// SignatureFormat names version 1 of the detached package signature.
const SignatureFormat = "openmini-package-signature/v1"

// SignatureExtension is appended to a package's file name to name its
// signature file: app.ma is signed by app.ma.sig.
const SignatureExtension = ".sig"

// Signature is the platform's detached signature of one package, stored as
// JSON in a side file next to the package (see docs/packages.md). The
// signed message is the ASCII bytes of SignatureFormat, one zero byte, and
// the 32-byte SHA-256 digest of the whole .ma file; the algorithm is
// Ed25519 (JOSE "EdDSA").
type Signature struct {
	Format    string `json:"format"`         // SignatureFormat
	Alg       string `json:"alg"`            // "EdDSA"
	KeyID     string `json:"kid"`            // the key's kid in the platform's JWK Set
	SHA256    string `json:"package_sha256"` // hex digest of the package
	Signature string `json:"signature"`      // base64url (no padding) Ed25519 signature
}

// signedMessage is what the Ed25519 signature covers.
func signedMessage(sum [32]byte) []byte {
	msg := make([]byte, 0, len(SignatureFormat)+1+len(sum))
	msg = append(msg, SignatureFormat...)
	msg = append(msg, 0)
	return append(msg, sum[:]...)
}

// Sign returns the signature file (JSON) for the package bytes pkg, made
// with priv and labelled with keyID.
func Sign(pkg []byte, priv ed25519.PrivateKey, keyID string) ([]byte, error) {
	if len(priv) != ed25519.PrivateKeySize {
		return nil, openmini.Errorf(openmini.EINVALID, "sign package: not an Ed25519 private key")
	}
	if keyID == "" {
		return nil, openmini.Errorf(openmini.EINVALID, "sign package: key ID is empty")
	}
	sum := sha256.Sum256(pkg)
	s := Signature{
		Format:    SignatureFormat,
		Alg:       "EdDSA",
		KeyID:     keyID,
		SHA256:    hex.EncodeToString(sum[:]),
		Signature: base64.RawURLEncoding.EncodeToString(ed25519.Sign(priv, signedMessage(sum))),
	}
	out, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("sign package: %w", err)
	}
	return append(out, '\n'), nil
}

// Verify checks the signature file sig against the package bytes pkg and
// the platform's keys. It returns the parsed signature when it is valid,
// and otherwise an openmini.EINVALID error saying what failed: a malformed
// signature file, an unknown key ID, a digest that does not match the
// package (it was changed), or a bad signature.
func Verify(pkg, sig []byte, keys KeySet) (*Signature, error) {
	var s Signature
	if err := json.Unmarshal(sig, &s); err != nil {
		return nil, openmini.Errorf(openmini.EINVALID, "signature file is not valid JSON: %v", err)
	}
	if s.Format != SignatureFormat || s.Alg != "EdDSA" {
		return nil, openmini.Errorf(openmini.EINVALID, "unsupported signature format %q / algorithm %q", s.Format, s.Alg)
	}
	key, ok := keys.Find(s.KeyID)
	if !ok {
		return nil, openmini.Errorf(openmini.EINVALID, "signature key %q is not among the platform's published keys", s.KeyID)
	}
	sum := sha256.Sum256(pkg)
	if s.SHA256 != hex.EncodeToString(sum[:]) {
		return nil, openmini.Errorf(openmini.EINVALID, "package digest sha256:%x does not match the signed digest sha256:%s: the package was changed", sum, s.SHA256)
	}
	raw, err := base64.RawURLEncoding.DecodeString(s.Signature)
	if err != nil || len(raw) != ed25519.SignatureSize {
		return nil, openmini.Errorf(openmini.EINVALID, "signature is not a base64url Ed25519 signature")
	}
	if !ed25519.Verify(key, signedMessage(sum), raw) {
		return nil, openmini.Errorf(openmini.EINVALID, "signature does not verify with key %q", s.KeyID)
	}
	return &s, nil
}

// PublicKey is one of the platform's package-signing keys.
type PublicKey struct {
	KeyID string
	Key   ed25519.PublicKey
}

// KeySet is the set of keys that may have signed a package. The server
// publishes it as a JWK Set at /.well-known/miniapp-package-keys.json.
type KeySet struct {
	Keys []PublicKey
}

// Find returns the key with the given kid.
func (ks KeySet) Find(kid string) (ed25519.PublicKey, bool) {
	for _, k := range ks.Keys {
		if k.KeyID == kid {
			return k.Key, true
		}
	}
	return nil, false
}

// jwk is the JSON Web Key form of an Ed25519 public key (RFC 8037).
type jwk struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Kid string `json:"kid"`
	Use string `json:"use,omitempty"`
	Alg string `json:"alg,omitempty"`
}

// MarshalKeySet encodes ks as a JWK Set: {"keys":[{"kty":"OKP",
// "crv":"Ed25519","x":...,"kid":...,"use":"sig","alg":"EdDSA"}]}.
func MarshalKeySet(ks KeySet) ([]byte, error) {
	set := struct {
		Keys []jwk `json:"keys"`
	}{Keys: []jwk{}}
	for _, k := range ks.Keys {
		if len(k.Key) != ed25519.PublicKeySize || k.KeyID == "" {
			return nil, openmini.Errorf(openmini.EINVALID, "marshal key set: key %q is not an Ed25519 public key with a kid", k.KeyID)
		}
		set.Keys = append(set.Keys, jwk{Kty: "OKP", Crv: "Ed25519", X: base64.RawURLEncoding.EncodeToString(k.Key), Kid: k.KeyID, Use: "sig", Alg: "EdDSA"})
	}
	out, err := json.MarshalIndent(set, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("marshal key set: %w", err)
	}
	return append(out, '\n'), nil
}

// ParseKeySet decodes a JWK Set, keeping the Ed25519 keys (kty OKP, crv
// Ed25519) and skipping keys of other types, as JWKS consumers must. It
// fails with openmini.EINVALID if the document is not a JWK Set, a kept key
// is malformed, or no Ed25519 key remains.
func ParseKeySet(data []byte) (KeySet, error) {
	var set struct {
		Keys []jwk `json:"keys"`
	}
	if err := json.Unmarshal(data, &set); err != nil {
		return KeySet{}, openmini.Errorf(openmini.EINVALID, "key set is not a JWK Set: %v", err)
	}
	var ks KeySet
	for i, k := range set.Keys {
		if k.Kty != "OKP" || k.Crv != "Ed25519" || (k.Use != "" && k.Use != "sig") {
			continue
		}
		x, err := base64.RawURLEncoding.DecodeString(k.X)
		if err != nil || len(x) != ed25519.PublicKeySize {
			return KeySet{}, openmini.Errorf(openmini.EINVALID, "key set: keys[%d].x is not a base64url Ed25519 public key", i)
		}
		ks.Keys = append(ks.Keys, PublicKey{KeyID: k.Kid, Key: ed25519.PublicKey(x)})
	}
	if len(ks.Keys) == 0 {
		return KeySet{}, openmini.Errorf(openmini.EINVALID, "key set has no Ed25519 keys")
	}
	return ks, nil
}
