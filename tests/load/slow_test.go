package load

import (
	"strings"
	"testing"
	"time"
)

func TestSlowCounterTellsAStallFromASlowServer(t *testing.T) {
	start := time.Date(2026, 11, 29, 13, 0, 0, 0, time.UTC)
	stall := NewSlowCounter(P99Target, start)
	for i := range 1000 { // 1,000 requests over 10 s, one every 10 ms
		sent := start.Add(time.Duration(i) * 10 * time.Millisecond)
		latency := time.Millisecond
		if i >= 200 && i < 230 { // a 300 ms stall from 2.0 s
			latency = 40 * time.Millisecond
		}
		stall.Add(sent, latency)
	}
	got := stall.Summary(10 * time.Second)
	want := Slow{Limit: P99Target, Requests: 30, Windows: 3, Of: 100, Busiest: 30,
		BusiestAt: [busiestWindows]time.Duration{2 * time.Second, 2100 * time.Millisecond, 2200 * time.Millisecond}}
	if got != want {
		t.Errorf("stall: %+v, want %+v", got, want)
	}
	if text := got.Text(); text != "30 requests over 10.00 ms, in 3 of 100 windows of 100 ms; 100 % of them in the busiest 3 (from 2.0, 2.1, 2.2 s)" {
		t.Errorf("stall: Text() = %q", text)
	}

	spread := NewSlowCounter(P99Target, start)
	for i := range 1000 {
		latency := time.Millisecond
		if i%10 == 0 {
			latency = 11 * time.Millisecond
		}
		spread.Add(start.Add(time.Duration(i)*10*time.Millisecond), latency)
	}
	got = spread.Summary(10 * time.Second)
	if got.Requests != 100 || got.Windows != 100 || got.Busiest != 5 {
		t.Errorf("slow in every window: %+v", got)
	}

	everySecond := NewSlowCounter(P99Target, start)
	for i := range 1000 {
		latency := time.Millisecond
		if i%100 == 0 || i%100 == 1 || i == 555 { // 20 ms of slow requests at each second, and one more
			latency = 15 * time.Millisecond
		}
		everySecond.Add(start.Add(time.Duration(i)*10*time.Millisecond), latency)
	}
	if text := everySecond.Summary(10 * time.Second).Text(); !strings.HasSuffix(text, "in 11 of 100 windows of 100 ms; 48 % of them in the busiest 5 (from 0.0, 1.0, 2.0, 3.0, 4.0 s)") {
		t.Errorf("slow requests at each second: Text() = %q", text)
	}

	late := NewSlowCounter(P99Target, start)
	late.Add(start.Add(10*time.Second+50*time.Millisecond), time.Second)
	if got := late.Summary(10 * time.Second); got.Windows != 1 || got.Of != 101 {
		t.Errorf("a request sent after the step's end counts in a window of its own: %+v", got)
	}
	big := NewSlowCounter(P99Target, start)
	big.Add(start.Add(299*time.Second), time.Second)
	if text := big.Summary(300 * time.Second).Text(); !strings.HasPrefix(text, "1 request over 10.00 ms, in 1 of 3,000 windows") {
		t.Errorf("Text() = %q", text)
	}

	exact := NewSlowCounter(P99Target, start)
	exact.Add(start, P99Target)
	if got := exact.Summary(time.Second); got.Requests != 0 || got.Text() != "" {
		t.Errorf("a request of exactly the target is not over it: %+v %q", got, got.Text())
	}
}

func TestP99CheckAndReportShowHowTheSlowRequestsWereSpread(t *testing.T) {
	slow := Slow{Limit: P99Target, Requests: 700, Windows: 4, Of: 100, Busiest: 700}
	s := Step{Scenario: "GET /v1/tokens/{id}", Target: "tooken", Rate: 1000, Requests: 10_000, Throughput: 1000,
		P99: 30 * time.Millisecond, Slow: slow, Steal: -1}
	base := Step{Rate: 1000, Requests: 10_000, P99: 12 * time.Millisecond, Slow: Slow{Limit: P99Target, Requests: 200,
		Windows: 1, Of: 100, Busiest: 200}}
	c := Beside(P99Under("x", s, P99Target), base)
	for _, want := range []string{"target p99 < 10.00 ms); 700 requests over 10.00 ms, in 4 of 100 windows of 100 ms; 100 % of them in the busiest 4",
		"the baseline at 1,000 req/s: p99 12.00 ms (200 requests over 10.00 ms, in 1 of 100 windows"} {
		if !strings.Contains(c.Detail, want) {
			t.Errorf("check lacks %q: %s", want, c.Detail)
		}
	}
	md := Report{Steps: []Step{s, {Scenario: "GET /v1/tokens/{id}", Target: "tooken", Rate: 500, Requests: 5000, Steal: -1}}}.Markdown()
	if want := "- GET /v1/tokens/{id}, tooken, 1,000 req/s: 700 requests over"; !strings.Contains(md, want) {
		t.Errorf("report lacks %q:\n%s", want, md)
	}
	if strings.Contains(md, "500 req/s:") {
		t.Errorf("a step without slow requests is listed:\n%s", md)
	}
}
