package ports

import "time"

// Signing algorithms.
const (
	AlgES256 = "ES256"
	AlgEdDSA = "EdDSA"
	AlgRS256 = "RS256"
)

// SigningAlgorithms lists the supported signing algorithms; ES256 is the default.
var SigningAlgorithms = []string{AlgES256, AlgEdDSA, AlgRS256}

// Signing key states, derived by KeyStates.
const (
	KeyPending  = "pending"  // published, not signing yet
	KeyActive   = "active"   // signs new values
	KeyRetiring = "retiring" // superseded; published while values it signed live
	KeyRetired  = "retired"  // no live value left; unpublished
	KeyRevoked  = "revoked"  // emergency revocation; unpublished
)

// KeyStates derives each key's state at now: revoked, retired, pending (ActivatesAt after now),
// active (the latest-activated of the others), retiring (the rest).
func KeyStates(keys []SigningKey, now time.Time) map[string]string {
	states := make(map[string]string, len(keys))
	active := ActiveKey(keys, now)
	for i := range keys {
		k := &keys[i]
		switch {
		case k.RevokedAt != nil:
			states[k.KID] = KeyRevoked
		case k.RetiredAt != nil:
			states[k.KID] = KeyRetired
		case k.ActivatesAt.After(now):
			states[k.KID] = KeyPending
		case active != nil && k.KID == active.KID:
			states[k.KID] = KeyActive
		default:
			states[k.KID] = KeyRetiring
		}
	}
	return states
}

// ActiveKey returns the key that signs at now: of the keys neither revoked nor retired whose
// ActivatesAt has come, the one that activated last (ties: the later created). Nil if none.
func ActiveKey(keys []SigningKey, now time.Time) *SigningKey {
	var best *SigningKey
	for i := range keys {
		k := &keys[i]
		if k.RevokedAt != nil || k.RetiredAt != nil || k.ActivatesAt.After(now) {
			continue
		}
		if best == nil || k.ActivatesAt.After(best.ActivatesAt) ||
			(k.ActivatesAt.Equal(best.ActivatesAt) && k.CreatedAt.After(best.CreatedAt)) {
			best = k
		}
	}
	return best
}

// Published reports whether a key in state belongs in the JWKS (and verifies values).
func Published(state string) bool {
	return state == KeyPending || state == KeyActive || state == KeyRetiring
}
