package jwks

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/golang-jwt/jwt/v5"

	"github.com/tooken/tooken/ports"
)

const (
	coordSize   = 32   // bytes of a P-256 coordinate
	rsaBits     = 2048 // size of the RSA keys this package generates
	rsaMaxBits  = 8192 // larger stored keys are refused: they only cost CPU
	rsaMaxE     = 1<<31 - 1
	b64NoPad    = "unpadded base64url"
	errJWKShape = "public JWK is not a %s key"
)

var b64 = base64.RawURLEncoding.Strict()

// algorithm is what the package knows of one signing algorithm: its golang-jwt method, how to make
// a key, and how to write, read and check its keys.
type algorithm struct {
	name     string
	method   jwt.SigningMethod
	generate func() (crypto.Signer, error)
	// publicJWK returns the key-type members (kty, crv, x, y, n, e) of the JWK of pub.
	publicJWK func(pub crypto.PublicKey) (jwk, error)
	// parseJWK returns the public key of a JWK whose key-type members are this algorithm's.
	parseJWK func(j *jwk) (crypto.PublicKey, error)
	// privateOK reports whether a decrypted private key is of this algorithm's type and size.
	privateOK func(k any) bool
}

// algorithms holds the supported algorithms by JWS name (ports.SigningAlgorithms).
var algorithms = map[string]*algorithm{
	ports.AlgES256: {
		name:   ports.AlgES256,
		method: jwt.SigningMethodES256,
		generate: func() (crypto.Signer, error) {
			return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		},
		publicJWK: ecPublicJWK,
		parseJWK:  parseECJWK,
		privateOK: func(k any) bool {
			p, ok := k.(*ecdsa.PrivateKey)
			return ok && p.Curve == elliptic.P256()
		},
	},
	ports.AlgEdDSA: {
		name:   ports.AlgEdDSA,
		method: jwt.SigningMethodEdDSA,
		generate: func() (crypto.Signer, error) {
			_, priv, err := ed25519.GenerateKey(rand.Reader)
			return priv, err
		},
		publicJWK: okpPublicJWK,
		parseJWK:  parseOKPJWK,
		privateOK: func(k any) bool {
			p, ok := k.(ed25519.PrivateKey)
			return ok && len(p) == ed25519.PrivateKeySize
		},
	},
	ports.AlgRS256: {
		name:   ports.AlgRS256,
		method: jwt.SigningMethodRS256,
		generate: func() (crypto.Signer, error) {
			return rsa.GenerateKey(rand.Reader, rsaBits)
		},
		publicJWK: rsaPublicJWK,
		parseJWK:  parseRSAJWK,
		privateOK: func(k any) bool {
			p, ok := k.(*rsa.PrivateKey)
			return ok && p.N.BitLen() >= rsaBits && p.N.BitLen() <= rsaMaxBits
		},
	},
}

// lookupAlgorithm returns the algorithm named alg, or EINVALID naming the supported ones.
func lookupAlgorithm(alg string) (*algorithm, error) {
	if a := algorithms[alg]; a != nil {
		return a, nil
	}
	// The requested name is not echoed: it is unbounded input.
	return nil, ports.Errorf(ports.EINVALID, "Unsupported signing algorithm; supported: %s",
		strings.Join(ports.SigningAlgorithms, ", "))
}

// jwk is a public JSON Web Key (RFC 7517/7518/8037). The private members are only ever decoded, to
// refuse a stored JWK that carries them; what this package writes never has them.
type jwk struct {
	Kty string `json:"kty"`
	Crv string `json:"crv,omitempty"`
	X   string `json:"x,omitempty"`
	Y   string `json:"y,omitempty"`
	N   string `json:"n,omitempty"`
	E   string `json:"e,omitempty"`
	Kid string `json:"kid"`
	Alg string `json:"alg"`
	Use string `json:"use"`

	D  string `json:"d,omitempty"`
	P  string `json:"p,omitempty"`
	Q  string `json:"q,omitempty"`
	DP string `json:"dp,omitempty"`
	DQ string `json:"dq,omitempty"`
	QI string `json:"qi,omitempty"`
	K  string `json:"k,omitempty"`
}

func (j *jwk) hasPrivate() bool {
	return j.D != "" || j.P != "" || j.Q != "" || j.DP != "" || j.DQ != "" || j.QI != "" || j.K != ""
}

// publicJWK returns the JWK of pub for algorithm a, with kid, alg and use "sig".
func publicJWK(a *algorithm, pub crypto.PublicKey, kid string) (jwk, error) {
	j, err := a.publicJWK(pub)
	if err != nil {
		return jwk{}, err
	}
	j.Kid, j.Alg, j.Use = kid, a.name, "sig"
	return j, nil
}

// parsePublicJWK parses a stored public JWK of algorithm a: the key type must be a's, the kid the
// expected one, alg and use (when present) a's and "sig", and no private member may be present. It
// returns the canonical JWK (as publicJWK writes it) and the public key.
func parsePublicJWK(a *algorithm, raw []byte, kid string) (jwk, crypto.PublicKey, error) {
	var j jwk
	if err := json.Unmarshal(raw, &j); err != nil {
		return jwk{}, nil, fmt.Errorf("public JWK: %w", err)
	}
	switch {
	case j.hasPrivate():
		return jwk{}, nil, errors.New("public JWK holds a private key")
	case j.Kid != kid:
		return jwk{}, nil, errors.New("public JWK kid does not match the key")
	case j.Alg != "" && j.Alg != a.name, j.Use != "" && j.Use != "sig":
		return jwk{}, nil, fmt.Errorf("public JWK is not an %s signing key", a.name)
	}
	pub, err := a.parseJWK(&j)
	if err != nil {
		return jwk{}, nil, err
	}
	canonical, err := publicJWK(a, pub, kid)
	if err != nil {
		return jwk{}, nil, err
	}
	return canonical, pub, nil
}

func ecPublicJWK(pub crypto.PublicKey) (jwk, error) {
	k, ok := pub.(*ecdsa.PublicKey)
	if !ok || k.Curve != elliptic.P256() {
		return jwk{}, errors.New("not an EC P-256 public key")
	}
	b, err := k.Bytes()
	if err != nil {
		return jwk{}, err
	}
	if len(b) != 1+2*coordSize || b[0] != 4 {
		return jwk{}, errors.New("unexpected public key encoding")
	}
	return jwk{
		Kty: "EC",
		Crv: "P-256",
		X:   b64.EncodeToString(b[1 : 1+coordSize]),
		Y:   b64.EncodeToString(b[1+coordSize:]),
	}, nil
}

func parseECJWK(j *jwk) (crypto.PublicKey, error) {
	if j.Kty != "EC" || j.Crv != "P-256" || j.N != "" || j.E != "" {
		return nil, fmt.Errorf(errJWKShape, "EC P-256")
	}
	x, errX := b64.DecodeString(j.X)
	y, errY := b64.DecodeString(j.Y)
	if errX != nil || errY != nil || len(x) != coordSize || len(y) != coordSize {
		return nil, errors.New("public JWK has malformed coordinates (want 32 bytes, " + b64NoPad + ")")
	}
	point := make([]byte, 0, 1+2*coordSize)
	point = append(append(append(point, 4), x...), y...)
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), point)
	if err != nil {
		return nil, fmt.Errorf("public JWK: %w", err)
	}
	return pub, nil
}

func okpPublicJWK(pub crypto.PublicKey) (jwk, error) {
	k, ok := pub.(ed25519.PublicKey)
	if !ok || len(k) != ed25519.PublicKeySize {
		return jwk{}, errors.New("not an Ed25519 public key")
	}
	return jwk{Kty: "OKP", Crv: "Ed25519", X: b64.EncodeToString(k)}, nil
}

func parseOKPJWK(j *jwk) (crypto.PublicKey, error) {
	if j.Kty != "OKP" || j.Crv != "Ed25519" || j.Y != "" || j.N != "" || j.E != "" {
		return nil, fmt.Errorf(errJWKShape, "OKP Ed25519")
	}
	x, err := b64.DecodeString(j.X)
	if err != nil || len(x) != ed25519.PublicKeySize {
		return nil, errors.New("public JWK has a malformed x (want 32 bytes, " + b64NoPad + ")")
	}
	return ed25519.PublicKey(x), nil
}

func rsaPublicJWK(pub crypto.PublicKey) (jwk, error) {
	k, ok := pub.(*rsa.PublicKey)
	if !ok || k.N == nil || k.E < 3 {
		return jwk{}, errors.New("not an RSA public key")
	}
	return jwk{
		Kty: "RSA",
		N:   b64.EncodeToString(k.N.Bytes()),
		E:   b64.EncodeToString(big.NewInt(int64(k.E)).Bytes()),
	}, nil
}

func parseRSAJWK(j *jwk) (crypto.PublicKey, error) {
	if j.Kty != "RSA" || j.Crv != "" || j.X != "" || j.Y != "" {
		return nil, fmt.Errorf(errJWKShape, "RSA")
	}
	n, errN := b64.DecodeString(j.N)
	e, errE := b64.DecodeString(j.E)
	if errN != nil || errE != nil || len(n) == 0 || n[0] == 0 || len(e) == 0 || e[0] == 0 || len(e) > 4 {
		return nil, errors.New("public JWK has a malformed n or e (" + b64NoPad + ", no leading zeros)")
	}
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	if bits := pub.N.BitLen(); bits < rsaBits || bits > rsaMaxBits {
		return nil, fmt.Errorf("public JWK: RSA modulus of %d bits (want %d to %d)", bits, rsaBits, rsaMaxBits)
	}
	if pub.E < 3 || pub.E > rsaMaxE || pub.E%2 == 0 || pub.N.Bit(0) == 0 {
		return nil, errors.New("public JWK: invalid RSA exponent or modulus")
	}
	return pub, nil
}
