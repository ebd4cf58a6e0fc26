package jwks

import (
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/tooken/tooken/ports"
)

// audience is the aud claim: always written as an array, read from a string or an array.
type audience []string

// UnmarshalJSON accepts a single string or an array of strings.
func (a *audience) UnmarshalJSON(b []byte) error {
	var cs jwt.ClaimStrings
	if err := json.Unmarshal(b, &cs); err != nil {
		return err
	}
	*a = audience(cs)
	return nil
}

// accessClaims is the JSON body of a Tooken access token (RFC 9068 plus wid). It implements
// jwt.Claims and jwt.ClaimsValidator.
type accessClaims struct {
	Issuer    string           `json:"iss,omitempty"`
	Subject   string           `json:"sub,omitempty"`
	ClientID  string           `json:"client_id,omitempty"`
	Audience  audience         `json:"aud,omitempty"`
	JTI       string           `json:"jti,omitempty"`
	IssuedAt  *jwt.NumericDate `json:"iat,omitempty"`
	NotBefore *jwt.NumericDate `json:"nbf,omitempty"`
	ExpiresAt *jwt.NumericDate `json:"exp,omitempty"`
	Scope     string           `json:"scope,omitempty"`
	WID       string           `json:"wid,omitempty"`

	// wantWID is the workspace of the verifying key; set before verification, never serialized.
	wantWID string
}

// GetExpirationTime implements jwt.Claims.
func (c *accessClaims) GetExpirationTime() (*jwt.NumericDate, error) { return c.ExpiresAt, nil }

// GetIssuedAt implements jwt.Claims.
func (c *accessClaims) GetIssuedAt() (*jwt.NumericDate, error) { return c.IssuedAt, nil }

// GetNotBefore implements jwt.Claims.
func (c *accessClaims) GetNotBefore() (*jwt.NumericDate, error) { return c.NotBefore, nil }

// GetIssuer implements jwt.Claims.
func (c *accessClaims) GetIssuer() (string, error) { return c.Issuer, nil }

// GetSubject implements jwt.Claims.
func (c *accessClaims) GetSubject() (string, error) { return c.Subject, nil }

// GetAudience implements jwt.Claims.
func (c *accessClaims) GetAudience() (jwt.ClaimStrings, error) {
	return jwt.ClaimStrings(c.Audience), nil
}

var errClaims = errors.New("required claim missing or inconsistent")

// Validate implements jwt.ClaimsValidator: sub, jti and wid are required, wid must be the verifying
// key's workspace, and client_id, when present, must equal sub.
func (c *accessClaims) Validate() error {
	if c.Subject == "" || c.JTI == "" || c.WID == "" || c.WID != c.wantWID ||
		(c.ClientID != "" && c.ClientID != c.Subject) {
		return errClaims
	}
	return nil
}

// ignoringExpiry hides the exp claim from a validator, to tell an expired-but-otherwise-valid value
// from one that is wrong in some other way too.
type ignoringExpiry struct{ *accessClaims }

// GetExpirationTime implements jwt.Claims.
func (ignoringExpiry) GetExpirationTime() (*jwt.NumericDate, error) { return nil, nil }

// toPorts converts verified claims.
func (c *accessClaims) toPorts(kid string) *ports.Claims {
	out := &ports.Claims{
		Issuer:      c.Issuer,
		Subject:     c.Subject,
		WorkspaceID: c.WID,
		JTI:         c.JTI,
		Audience:    append([]string(nil), c.Audience...),
		Scopes:      strings.Fields(c.Scope),
		IssuedAt:    numericTime(c.IssuedAt),
		NotBefore:   numericTime(c.NotBefore),
		KeyID:       kid,
	}
	if c.ExpiresAt != nil {
		t := c.ExpiresAt.UTC()
		out.ExpiresAt = &t
	}
	return out
}

func numericTime(d *jwt.NumericDate) time.Time {
	if d == nil {
		return time.Time{}
	}
	return d.UTC()
}
