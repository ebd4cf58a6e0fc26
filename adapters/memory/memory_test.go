package memory_test

import (
	"math"
	"testing"

	"github.com/tooken/tooken/adapters/memory"
	"github.com/tooken/tooken/ports"
	"github.com/tooken/tooken/ports/portstest"
)

func TestStores(t *testing.T) {
	portstest.TestStores(t, func(*testing.T) ports.Stores { return memory.New().Stores() })
}

// TestSharedStores runs the suites against one database shared by every test, as the SQL adapters do.
func TestSharedStores(t *testing.T) {
	shared := memory.New().Stores()
	portstest.TestStores(t, func(*testing.T) ports.Stores { return shared })
}

func TestReadyReportsUnavailable(t *testing.T) {
	db := memory.New()
	db.SetUnavailable(true)
	if code := ports.ErrorCode(db.Stores().Ready.Ready(t.Context())); code != ports.EUNAVAILABLE {
		t.Errorf("Ready after SetUnavailable(true): code %q, want %q", code, ports.EUNAVAILABLE)
	}
	db.SetUnavailable(false)
	if err := db.Stores().Ready.Ready(t.Context()); err != nil {
		t.Errorf("Ready after SetUnavailable(false): %v, want nil", err)
	}
}

func TestListsRejectInvalidPagesAndToleratePagesPastTheEnd(t *testing.T) {
	s := memory.New().Stores()
	for _, p := range []ports.Page{{Page: 0, PerPage: 10}, {Page: 1, PerPage: 0}, {Page: 1, PerPage: 101}} {
		if _, _, err := s.Tokens.Tokens(t.Context(), "ws_x", ports.TokenFilter{Page: p}); ports.ErrorCode(err) != ports.EINVALID {
			t.Errorf("Tokens(page %+v): %v, want EINVALID", p, err)
		}
		if _, _, err := s.Audit.AuditEvents(t.Context(), "ws_x", ports.AuditFilter{Page: p}); ports.ErrorCode(err) != ports.EINVALID {
			t.Errorf("AuditEvents(page %+v): %v, want EINVALID", p, err)
		}
	}
	list, total, err := s.Tokens.Tokens(t.Context(), "ws_x", ports.TokenFilter{Page: ports.Page{Page: math.MaxInt, PerPage: 100}})
	if err != nil || len(list) != 0 || total != 0 {
		t.Errorf("Tokens(last possible page): %d tokens, total %d, err %v; want none", len(list), total, err)
	}
}
