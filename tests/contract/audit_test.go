package contract

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tooken/tooken/sdk"
)

func TestAuditLogRecordsEachChangeWithItsActorAndRequest(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limits{})
	ws := e.bootstrap(t, "Acme")
	ctx := t.Context()
	tok := mint(t, ws.Owner, "audited", "tokens:read")
	e.Clock.Advance(time.Second)
	rev, err := ws.Owner.RevokeTokenWithResponse(ctx, tok.Id)
	want(t, rev, err, http.StatusNoContent)

	res, err := ws.Owner.ListAuditLogsWithResponse(ctx, &sdk.ListAuditLogsParams{Action: ptr("token.revoked")})
	want(t, res, err, http.StatusOK)
	if len(res.JSON200.Data) != 1 || res.JSON200.Meta.Total != 1 {
		t.Fatalf("token.revoked events = %+v", res.JSON200)
	}
	ev := res.JSON200.Data[0]
	if ev.Actor.Type != "api_key" || ev.Actor.Email != ws.Email || ev.Target.Type != "token" || ev.Target.Id != tok.Id || ev.Target.Name != "audited" {
		t.Errorf("event = %+v", ev)
	}
	if reqID := rev.HTTPResponse.Header.Get("X-Request-Id"); reqID == "" || ev.RequestId != reqID {
		t.Errorf("event request_id = %q, want the revoke's X-Request-Id %q", ev.RequestId, reqID)
	}
	if ev.Ip == "" || !strings.HasPrefix(ev.Id, "evt_") {
		t.Errorf("event id = %q, ip = %q", ev.Id, ev.Ip)
	}

	byTarget, err := ws.Owner.ListAuditLogsWithResponse(ctx, &sdk.ListAuditLogsParams{TargetId: &tok.Id})
	want(t, byTarget, err, http.StatusOK)
	var actions []string
	for _, ev := range byTarget.JSON200.Data {
		actions = append(actions, ev.Action)
	}
	if strings.Join(actions, ",") != "token.revoked,token.created" {
		t.Errorf("events of the token = %v, want [token.revoked token.created] (newest first)", actions)
	}

	// Another workspace sees none of it.
	other := e.bootstrap(t, "Globex")
	theirs, err := other.Owner.ListAuditLogsWithResponse(ctx, &sdk.ListAuditLogsParams{TargetId: &tok.Id})
	want(t, theirs, err, http.StatusOK)
	if theirs.JSON200.Meta.Total != 0 {
		t.Errorf("another workspace sees %d events of the token", theirs.JSON200.Meta.Total)
	}

	byActor, err := ws.Owner.ListAuditLogsWithResponse(ctx, &sdk.ListAuditLogsParams{ActorId: &ev.Actor.Id})
	want(t, byActor, err, http.StatusOK)
	if byActor.JSON200.Meta.Total < 2 {
		t.Errorf("events of the actor: total = %d, want at least 2", byActor.JSON200.Meta.Total)
	}
}

func TestAuditLogFiltersByTimeAndPagesWithLinkHeaders(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limits{})
	ws := e.bootstrap(t, "Acme")
	ctx := t.Context()
	start := e.Clock.Now().Add(-time.Second)
	for _, name := range []string{"a", "b", "c"} {
		e.Clock.Advance(time.Second)
		mint(t, ws.Owner, name, "tokens:read")
	}
	reader := e.client(t, mint(t, ws.Owner, "auditor", "audit:read").Token)

	all, err := reader.ListAuditLogsWithResponse(ctx, &sdk.ListAuditLogsParams{Since: rfc3339(start), PerPage: ptr(2)})
	want(t, all, err, http.StatusOK)
	total := all.JSON200.Meta.Total
	if total < 4 || len(all.JSON200.Data) != 2 {
		t.Fatalf("since start: total = %d, page = %d events", total, len(all.JSON200.Data))
	}
	links := parseLinks(t, all.HTTPResponse.Header.Get("Link"))
	if next, ok := links["next"]; !ok || next.Path != "/v1/audit-logs" || next.Query().Get("page") != "2" || next.Query().Get("since") == "" {
		t.Errorf("Link = %q, want rel=\"next\" to page 2 keeping the filters", all.HTTPResponse.Header.Get("Link"))
	}
	last, err := reader.ListAuditLogsWithResponse(ctx, &sdk.ListAuditLogsParams{Since: rfc3339(start), PerPage: ptr(2), Page: ptr((total + 1) / 2)})
	want(t, last, err, http.StatusOK)
	if links := parseLinks(t, last.HTTPResponse.Header.Get("Link")); links["next"] != nil || links["prev"] == nil {
		t.Errorf("last page Link = %q, want only rel=\"prev\"", last.HTTPResponse.Header.Get("Link"))
	}

	future, err := reader.ListAuditLogsWithResponse(ctx, &sdk.ListAuditLogsParams{Since: rfc3339(e.Clock.Now().Add(time.Hour))})
	want(t, future, err, http.StatusOK)
	past, err := reader.ListAuditLogsWithResponse(ctx, &sdk.ListAuditLogsParams{Until: rfc3339(start.Add(-time.Hour))})
	want(t, past, err, http.StatusOK)
	if future.JSON200.Meta.Total != 0 || past.JSON200.Meta.Total != 0 {
		t.Errorf("events after the future = %d, before the start = %d; want none", future.JSON200.Meta.Total, past.JSON200.Meta.Total)
	}
}

func TestListAuditLogsRejectsBadQueryWith400(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limits{})
	ws := e.bootstrap(t, "Acme")
	for name, tc := range map[string]struct {
		params sdk.ListAuditLogsParams
		detail string
	}{
		"since not RFC 3339": {sdk.ListAuditLogsParams{Since: ptr("yesterday")}, "since"},
		"until not RFC 3339": {sdk.ListAuditLogsParams{Until: ptr("2030-13-01T00:00:00Z")}, "until"},
		"per_page=0":         {sdk.ListAuditLogsParams{PerPage: ptr(0)}, "per_page"},
		"per_page=101":       {sdk.ListAuditLogsParams{PerPage: ptr(101)}, "per_page"},
		"page=0":             {sdk.ListAuditLogsParams{Page: ptr(0)}, "page"},
		"action of 201":      {sdk.ListAuditLogsParams{Action: ptr(strings.Repeat("a", 201))}, ""},
	} {
		t.Run(name, func(t *testing.T) {
			res, err := ws.Owner.ListAuditLogsWithResponse(invalidRequest(t.Context()), &tc.params)
			got := want(t, res, err, http.StatusBadRequest)
			if tc.detail != "" {
				wantDetail(t, got, tc.detail)
			}
		})
	}
}
