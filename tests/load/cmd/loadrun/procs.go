package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	_ "github.com/lib/pq" // the harness creates and drops its database

	"github.com/tooken/tooken/tests/load"
)

// child is a process the harness started; stop ends it with SIGTERM (SIGKILL after 15 s).
type child struct {
	name string
	cmd  *exec.Cmd
	done chan error
}

// start runs the program with env added to the harness's environment and its output in logPath.
// The child dies with the harness (Pdeathsig), so an interrupted run leaves nothing behind.
func start(name, logPath string, env []string, prog string, args ...string) (*child, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(prog, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	c := &child{name: name, cmd: cmd, done: make(chan error, 1)}
	go func() { c.done <- cmd.Wait(); logf.Close() }()
	return c, nil
}

func (c *child) pid() int { return c.cmd.Process.Pid }

func (c *child) stop() {
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(15 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.done
	}
}

// waitHTTP polls url until it answers 200, the child exits or the timeout passes.
func waitHTTP(c *child, url string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if res, err := http.Get(url); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case err := <-c.done:
			c.done <- err
			return fmt.Errorf("%s exited before answering %s: %v", c.name, url, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s did not answer %s within %s", c.name, url, timeout)
}

// freeAddr returns a loopback address with a port free at the time of the call.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// masterKey returns a fresh 32-byte TOOKEN_MASTER_KEY.
func masterKey() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// database is the fresh PostgreSQL database of one run, created and dropped on the admin URL's server.
type database struct {
	admin *sql.DB
	name  string
	url   string
}

func createDatabase(ctx context.Context, adminURL string) (*database, error) {
	u, err := url.Parse(adminURL)
	if err != nil {
		return nil, fmt.Errorf("database URL: %w", err)
	}
	admin, err := sql.Open("postgres", adminURL)
	if err != nil {
		return nil, err
	}
	name := fmt.Sprintf("tooken_loadrun_%d_%d", time.Now().Unix(), os.Getpid())
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close()
		return nil, fmt.Errorf("creating the run's database: %w", err)
	}
	u.Path = "/" + name
	return &database{admin: admin, name: name, url: u.String()}, nil
}

func (d *database) drop() {
	if _, err := d.admin.Exec("DROP DATABASE IF EXISTS " + d.name + " WITH (FORCE)"); err != nil {
		fmt.Fprintf(os.Stderr, "loadrun: dropping %s: %v\n", d.name, err)
	}
	d.admin.Close()
}

// analyze refreshes the planner statistics of the run's database, as autovacuum would within about a
// minute. Without it, a scenario that follows one that grew the database by tens of thousands of rows
// in seconds runs on the plans the server's connections prepared while the tables were nearly empty
// (measured: the mixed step after the create steps at a fifth to less than half of its throughput, its
// revokes scanning the workspace's index of tokens instead of looking the token up by id).
func (d *database) analyze() (time.Duration, error) {
	began := time.Now()
	db, err := sql.Open("postgres", d.url)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	_, err = db.Exec("ANALYZE")
	return time.Since(began), err
}

// serverVersion is PostgreSQL's version string.
func (d *database) serverVersion() string {
	var v string
	if err := d.admin.QueryRow("SHOW server_version").Scan(&v); err != nil {
		return "PostgreSQL (version unknown)"
	}
	return "PostgreSQL " + v
}

// bootstrapped is what `tooken bootstrap` prints.
type bootstrapped struct {
	WorkspaceID string `json:"workspace_id"`
	APIKey      string `json:"api_key"`
}

func bootstrap(bin string, env []string) (bootstrapped, error) {
	cmd := exec.Command(bin, "bootstrap", "--email", "load@example.com", "--workspace", "Load")
	cmd.Env = append(os.Environ(), env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return bootstrapped{}, fmt.Errorf("tooken bootstrap: %v: %s", err, stderr.String())
	}
	var b bootstrapped
	if err := json.Unmarshal(out, &b); err != nil || b.APIKey == "" {
		return bootstrapped{}, fmt.Errorf("tooken bootstrap printed no API key (%v)", err)
	}
	return b, nil
}

// buildTooken builds the server binary into dir.
func buildTooken(goCmd, dir string) (string, error) {
	bin := filepath.Join(dir, "tooken")
	cmd := exec.Command(goCmd, "build", "-o", bin, "./cmd/tooken")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("building tooken: %w", err)
	}
	return bin, nil
}

// rssSampler reads a process's VmRSS every interval until stopped.
type rssSampler struct {
	pid     int
	began   time.Time
	mu      sync.Mutex
	samples []load.Sample
	stopc   chan struct{}
	wg      sync.WaitGroup
}

func sampleRSS(pid int, every time.Duration) *rssSampler {
	s := &rssSampler{pid: pid, began: time.Now(), stopc: make(chan struct{})}
	s.wg.Go(func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			s.read()
			select {
			case <-s.stopc:
				return
			case <-t.C:
			}
		}
	})
	return s
}

func (s *rssSampler) read() {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.pid))
	if err != nil {
		return
	}
	if rss, err := load.ParseVmRSS(string(b)); err == nil {
		s.mu.Lock()
		s.samples = append(s.samples, load.Sample{At: time.Since(s.began), Bytes: float64(rss)})
		s.mu.Unlock()
	}
}

// between returns the samples taken in [from, to).
func (s *rssSampler) between(from, to time.Time) []load.Sample {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []load.Sample
	for _, x := range s.samples {
		if at := s.began.Add(x.At); !at.Before(from) && at.Before(to) {
			out = append(out, x)
		}
	}
	return out
}

// max is the largest sample in [from, to).
func (s *rssSampler) max(from, to time.Time) int64 {
	var m float64
	for _, x := range s.between(from, to) {
		m = max(m, x.Bytes)
	}
	return int64(m)
}

func (s *rssSampler) stop() { close(s.stopc); s.wg.Wait() }

// debugJSON decodes the JSON the server's profiling listener answers at path into v.
func debugJSON(pprofAddr, path string, v any) error {
	c := http.Client{Timeout: 10 * time.Second}
	res, err := c.Get("http://" + pprofAddr + path)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", path, res.Status)
	}
	if err := json.NewDecoder(res.Body).Decode(v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// liveHeap reads from the pprof listener's /debug/vars the heap the server's last collection found
// live (not HeapAlloc, which also holds the garbage of the collector's sawtooth).
func liveHeap(pprofAddr string) (uint64, error) {
	var v struct {
		HeapLiveBytes *uint64 `json:"heap_live_bytes"`
	}
	if err := debugJSON(pprofAddr, "/debug/vars", &v); err != nil {
		return 0, err
	}
	if v.HeapLiveBytes == nil {
		return 0, errors.New("/debug/vars has no heap_live_bytes")
	}
	return *v.HeapLiveBytes, nil
}

// cpuProfile records the server's CPU profile for d into path (run it beside a max step).
func cpuProfile(pprofAddr string, d time.Duration, path string) error {
	secs := max(1, int(d.Seconds()))
	c := http.Client{Timeout: d + 30*time.Second}
	res, err := c.Get(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", pprofAddr, secs))
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("CPU profile: %s", res.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := f.ReadFrom(res.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// createBatches reads the server's counts of batches of token creates from its profiling listener.
func createBatches(pprofAddr string) (load.CreateBatches, error) {
	var v struct {
		Batches, Creates uint64
		BusySeconds      float64 `json:"busy_seconds"`
	}
	err := debugJSON(pprofAddr, "/debug/creates", &v)
	return load.CreateBatches{Batches: v.Batches, Creates: v.Creates, Busy: time.Duration(v.BusySeconds * float64(time.Second))}, err
}
