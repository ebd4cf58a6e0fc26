package faults

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/tooken/tooken/adapters/postgres/postgrestest"
)

// Two replicas serve one database under load; one is killed with SIGKILL. The survivor answers every
// request it gets without an error, and refuses every revoked token — those revoked on the dead
// replica just before it died (within the 1 s propagation bound) and those revoked on itself (at once).
func TestKillingOneReplicaLosesNoRequestOnTheOtherAndNoRevocation(t *testing.T) {
	t.Parallel()
	in := newInstallation(postgrestest.NewDatabase(t))
	in.PublicURL = "http://tooken.test" // a load balancer's URL: one issuer for both replicas
	key := in.bootstrap(t, "Acme")
	a, b := in.start(t), in.start(t)
	toks := make([]token, 24)
	for i := range toks {
		toks[i] = b.createToken(t, key, "t")
	}
	live, onA, onB := toks[:8], toks[8:16], toks[16:]
	for _, s := range []*child{a, b} { // warm both replicas' caches
		for _, tok := range toks {
			s.do(t, "GET", "/v1/tokens/"+tok.ID, tok.Token, nil, http.StatusOK, nil)
		}
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failures []string
	requests := 0
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				tok := live[(w+i)%len(live)]
				r, err := b.send("GET", "/v1/tokens/"+tok.ID, tok.Token, nil)
				if i%4 == 3 {
					r, err = b.send("POST", "/v1/tokens", key, tokenRequest("load"))
				}
				mu.Lock()
				requests++
				if err != nil {
					failures = append(failures, err.Error())
				} else if r.Status/100 != 2 {
					failures = append(failures, r.String())
				}
				mu.Unlock()
			}
		})
	}
	time.Sleep(300 * time.Millisecond)
	for _, tok := range onA {
		a.do(t, "DELETE", "/v1/tokens/"+tok.ID, key, nil, http.StatusNoContent, nil)
	}
	a.kill()
	killed := time.Now()
	for _, tok := range onB {
		b.do(t, "DELETE", "/v1/tokens/"+tok.ID, key, nil, http.StatusNoContent, nil)
		if r, err := b.send("GET", "/v1/tokens/"+tok.ID, tok.Token, nil); err != nil || r.Status != http.StatusUnauthorized {
			t.Errorf("token revoked on the survivor: %v %v; want 401 at once", r, err)
		}
	}
	for _, tok := range onA {
		waitFor(t, "a token revoked on the killed replica to be refused by the survivor", time.Until(killed.Add(propagationWait)), func() bool {
			r, err := b.send("GET", "/v1/tokens/"+tok.ID, tok.Token, nil)
			return err == nil && r.Status == http.StatusUnauthorized
		})
	}
	time.Sleep(500 * time.Millisecond)
	close(stop)
	wg.Wait()
	for _, f := range failures {
		t.Errorf("survivor: %s", f)
	}
	t.Logf("%d requests to the survivor, %d failed", requests, len(failures))
}
