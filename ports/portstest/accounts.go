package portstest

import (
	"strings"
	"testing"

	"github.com/tooken/tooken/ports"
)

// TestAccountStore checks a ports.AccountStore: round trips, case-insensitive email lookups and
// uniqueness, and ENOTFOUND for unknown emails.
func TestAccountStore(t *testing.T, newStores Factory) {
	run(t, newStores, "CreateAccountRoundTripsEveryField", testAccountRoundTrip)
	run(t, newStores, "EmptyPasswordHashRoundTrips", testAccountWithoutPassword)
	run(t, newStores, "AccountByEmailIgnoresCase", testAccountByEmailIgnoresCase)
	run(t, newStores, "CreateAccountRejectsDuplicateEmailIgnoringCase", testAccountDuplicateEmail)
	run(t, newStores, "AccountByEmailUnknownIsNotFound", testAccountNotFound)
}

func testAccountRoundTrip(e *env) {
	want := e.newAccount()
	got, err := e.s.Accounts.AccountByEmail(e.ctx, want.Email)
	e.must(err, "AccountByEmail")
	accountDiff(got, want).report(e.t, "AccountByEmail")
}

func testAccountWithoutPassword(e *env) {
	want := &ports.Account{ID: newID("acc_"), Email: newID("nopass-") + "@example.test", CreatedAt: e.at(0)}
	e.must(e.s.Accounts.CreateAccount(e.ctx, cloneAccount(want)), "CreateAccount")
	got, err := e.s.Accounts.AccountByEmail(e.ctx, want.Email)
	e.must(err, "AccountByEmail")
	accountDiff(got, want).report(e.t, "AccountByEmail")
}

func testAccountByEmailIgnoresCase(e *env) {
	want := e.newAccount()
	for _, email := range []string{strings.ToUpper(want.Email), "User-" + strings.TrimPrefix(want.Email, "user-")} {
		got, err := e.s.Accounts.AccountByEmail(e.ctx, email)
		if err != nil {
			e.t.Errorf("AccountByEmail(%q): %v, want the account stored as %q", email, err, want.Email)
			continue
		}
		accountDiff(got, want).report(e.t, "AccountByEmail("+email+")")
	}
}

func testAccountDuplicateEmail(e *env) {
	first := e.newAccount()
	for _, email := range []string{first.Email, strings.ToUpper(first.Email)} {
		dup := &ports.Account{ID: newID("acc_"), Email: email, CreatedAt: e.at(0)}
		e.wantCode(e.s.Accounts.CreateAccount(e.ctx, dup), ports.ECONFLICT, "CreateAccount("+email+")")
	}
	got, err := e.s.Accounts.AccountByEmail(e.ctx, first.Email)
	e.must(err, "AccountByEmail")
	accountDiff(got, first).report(e.t, "AccountByEmail after rejected duplicates")
}

func testAccountNotFound(e *env) {
	_, err := e.s.Accounts.AccountByEmail(e.ctx, newID("nobody-")+"@example.test")
	e.wantCode(err, ports.ENOTFOUND, "AccountByEmail(unknown)")
}
