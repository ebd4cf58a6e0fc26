package sqlstore

// The statements whose PostgreSQL plans plans_test.go checks.
var (
	RevokeTokenQuery = revokeToken
	RotateTokenQuery = rotateToken
)
