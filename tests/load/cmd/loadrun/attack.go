package main

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/tooken/tooken/tests/load"
)

// maxRateWorkers bounds the workers of a fixed-rate step: when the server falls behind, up to this
// many requests wait (on the step's connections, at most one in flight on each) before the step
// sends fewer and reports the lower throughput it achieved.
const maxRateWorkers = 256

// stepSpec is one step to run.
type stepSpec struct {
	scenario, target string
	rate             float64 // 0 = max
	clients          int
	duration         time.Duration
	targeter         vegeta.Targeter
	onResult         func(*vegeta.Result) // optional, called for every result
	pid              int                  // the serving process, whose CPU time is measured (0: none)
}

// runStep sends the step's requests and summarises them.
func runStep(sp stepSpec) (load.Step, time.Time, time.Time) {
	transport := &http.Transport{MaxConnsPerHost: sp.clients, MaxIdleConnsPerHost: sp.clients,
		DialContext: (&net.Dialer{KeepAlive: 30 * time.Second}).DialContext}
	defer transport.CloseIdleConnections()
	opts := []func(*vegeta.Attacker){vegeta.Client(&http.Client{Transport: transport}),
		vegeta.Workers(uint64(sp.clients)), vegeta.Timeout(10 * time.Second), vegeta.Redirects(vegeta.NoFollow)}
	pacer := vegeta.Rate{Freq: int(sp.rate + 0.5), Per: time.Second}
	if sp.rate == 0 {
		pacer = vegeta.Rate{}
		opts = append(opts, vegeta.MaxWorkers(uint64(sp.clients)))
	} else {
		opts = append(opts, vegeta.MaxWorkers(maxRateWorkers))
	}
	atk := vegeta.NewAttacker(opts...)
	var m vegeta.Metrics
	ops := map[string]*vegeta.Metrics{}
	step := load.Step{Scenario: sp.scenario, Target: sp.target, Rate: sp.rate, Clients: sp.clients,
		Duration: sp.duration, ErrorKinds: map[string]int{}}
	began, cpu := time.Now(), startCPU(sp.pid)
	slow := load.NewSlowCounter(load.P99Target, began)
	for res := range atk.Attack(sp.targeter, pacer, sp.duration, sp.scenario) {
		m.Add(res)
		slow.Add(res.Timestamp, res.Latency)
		if ops[res.Method] == nil {
			ops[res.Method] = &vegeta.Metrics{}
		}
		ops[res.Method].Add(res)
		if res.Code < 200 || res.Code > 299 {
			step.Errors++
			kind := strconv.Itoa(int(res.Code))
			if res.Code == 0 {
				kind = "transport"
			}
			step.ErrorKinds[kind]++
		}
		if sp.onResult != nil {
			sp.onResult(res)
		}
	}
	ended := time.Now()
	cpu.stop(&step)
	m.Close()
	step.Requests, step.Throughput = m.Requests, m.Throughput
	step.P50, step.P90, step.P99, step.Max = m.Latencies.P50, m.Latencies.P90, m.Latencies.P99, m.Latencies.Max
	step.Operations = operations(ops)
	if sp.rate > 0 {
		step.Slow = slow.Summary(sp.duration)
	}
	return step, began, ended
}

// operations summarises a step's results by method, most frequent first; nil for a step of one method.
func operations(byMethod map[string]*vegeta.Metrics) []load.Operation {
	if len(byMethod) < 2 {
		return nil
	}
	var out []load.Operation
	for method, m := range byMethod {
		m.Close()
		out = append(out, load.Operation{Method: method, Requests: m.Requests, P50: m.Latencies.P50,
			P99: m.Latencies.P99, Max: m.Latencies.Max})
	}
	slices.SortFunc(out, func(a, b load.Operation) int { return cmp.Compare(b.Requests, a.Requests) })
	return out
}

// credential is one pre-created token: its id and value.
type credential struct{ id, value string }

// workload builds the targeters of the four scenarios against one server.
type workload struct {
	base   string // server or baseline URL
	apiKey string
	pool   []credential // read and verified round-robin
	names  atomic.Uint64
	run    string // makes created names unique across runs

	mu      sync.Mutex
	revokes []string // tokens created by the mixed scenario, not yet revoked
}

func (w *workload) pick(i uint64) credential { return w.pool[i%uint64(len(w.pool))] }

func (w *workload) read(t *vegeta.Target, c credential) {
	*t = vegeta.Target{Method: http.MethodGet, URL: w.base + "/v1/tokens/" + c.id,
		Header: http.Header{"Authorization": {"Bearer " + c.value}}}
}

func (w *workload) create(t *vegeta.Target) {
	n := w.names.Add(1)
	body := fmt.Sprintf(`{"name":"load-%s-%d","scopes":["tokens:read"],"expires_at":%q}`, w.run, n,
		time.Now().Add(30*24*time.Hour).UTC().Format(time.RFC3339))
	*t = vegeta.Target{Method: http.MethodPost, URL: w.base + "/v1/tokens", Body: []byte(body),
		Header: http.Header{"Authorization": {"Bearer " + w.apiKey}, "Content-Type": {"application/json"}}}
}

func (w *workload) verify(t *vegeta.Target, c credential) {
	*t = vegeta.Target{Method: http.MethodPost, URL: w.base + "/v1/tokens/verify",
		Body:   []byte(`{"token":"` + c.value + `"}`),
		Header: http.Header{"Content-Type": {"application/json"}}}
}

// getTargeter is scenario 1: GET /v1/tokens/{id} with the token itself as the credential.
func (w *workload) getTargeter() vegeta.Targeter {
	var i atomic.Uint64
	return func(t *vegeta.Target) error { w.read(t, w.pick(i.Add(1))); return nil }
}

// createTargeter is scenario 2: POST /v1/tokens with the API key, a unique name each.
func (w *workload) createTargeter() vegeta.Targeter {
	return func(t *vegeta.Target) error { w.create(t); return nil }
}

// verifyTargeter is scenario 3: POST /v1/tokens/verify.
func (w *workload) verifyTargeter() vegeta.Targeter {
	var i atomic.Uint64
	return func(t *vegeta.Target) error { w.verify(t, w.pick(i.Add(1))); return nil }
}

// mixedTargeter is scenario 4: of every 100 requests 90 reads, 9 creates and 1 revoke of a token an
// earlier create made (a read while none is left to revoke).
func (w *workload) mixedTargeter() vegeta.Targeter {
	var i atomic.Uint64
	return func(t *vegeta.Target) error {
		n := i.Add(1)
		switch k := n % 100; {
		case k < 90:
			w.read(t, w.pick(n))
		case k < 99:
			w.create(t)
		default:
			if id, ok := w.popRevoke(); ok {
				*t = vegeta.Target{Method: http.MethodDelete, URL: w.base + "/v1/tokens/" + id,
					Header: http.Header{"Authorization": {"Bearer " + w.apiKey}}}
			} else {
				w.read(t, w.pick(n))
			}
		}
		return nil
	}
}

// noteCreated keeps the id of every token a mixed step created, for its revokes.
func (w *workload) noteCreated(res *vegeta.Result) {
	if res.Method != http.MethodPost || res.Code != http.StatusCreated {
		return
	}
	var out struct{ ID string }
	if json.Unmarshal(res.Body, &out) == nil && out.ID != "" {
		w.mu.Lock()
		w.revokes = append(w.revokes, out.ID)
		w.mu.Unlock()
	}
}

func (w *workload) popRevoke() (string, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.revokes) == 0 {
		return "", false
	}
	id := w.revokes[0]
	w.revokes = w.revokes[1:]
	return id, true
}

// do sends one request to the server and returns the answer's body, failing on any status but want.
func do(method, url, bearer string, body []byte, want int) ([]byte, error) {
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err == nil && res.StatusCode != want {
		err = fmt.Errorf("%s %s: %d %s", method, url, res.StatusCode, b)
	}
	return b, err
}

// seed creates the pool of tokens that scenarios 1, 3 and 4 read and verify.
func (w *workload) seed(n int) error {
	for i := range n {
		var t vegeta.Target
		w.create(&t)
		b, err := do(t.Method, t.URL, w.apiKey, t.Body, http.StatusCreated)
		if err != nil {
			return fmt.Errorf("creating pool token %d: %w", i, err)
		}
		var out struct{ ID, Token string }
		if err := json.Unmarshal(b, &out); err != nil {
			return err
		}
		w.pool = append(w.pool, credential{out.ID, out.Token})
	}
	return nil
}
