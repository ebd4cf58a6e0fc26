// Package childproc runs the tooken binary as a child process for the end-to-end and fault tests:
// it builds the binary once per test process, starts `tooken serve` on a free loopback port, waits
// until it is ready, and signals, kills and reaps it.
package childproc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var build struct {
	once      sync.Once
	dir, path string
	err       error
}

// Binary builds cmd/tooken once per test process (with $GO, or go; without -race: these tests
// exercise the process, not its memory accesses) and returns its path. Call RemoveBinary from
// TestMain when the tests are done.
func Binary(t testing.TB) string {
	t.Helper()
	build.once.Do(func() {
		dir, err := os.MkdirTemp("", "tooken-bin-")
		if err != nil {
			build.err = err
			return
		}
		build.dir, build.path = dir, filepath.Join(dir, "tooken")
		goCmd := os.Getenv("GO")
		if goCmd == "" {
			goCmd = "go"
		}
		out, err := exec.Command(goCmd, "build", "-o", build.path, "github.com/tooken/tooken/cmd/tooken").CombinedOutput()
		if err != nil {
			build.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if build.err != nil {
		t.Fatal(build.err)
	}
	return build.path
}

// RemoveBinary deletes what Binary built, if anything.
func RemoveBinary() {
	if build.dir != "" {
		_ = os.RemoveAll(build.dir)
	}
}

// Env is an environment for the child: this process's, without its TOOKEN_* variables, plus extra.
func Env(extra ...string) []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TOOKEN_") {
			out = append(out, kv)
		}
	}
	return append(out, extra...)
}

// Bootstrap runs `tooken bootstrap` (which migrates) with env and returns the owner API key.
func Bootstrap(t testing.TB, env []string, workspace string) string {
	t.Helper()
	cmd := exec.Command(Binary(t), "bootstrap", "--email", "owner@example.com", "--workspace", workspace)
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tooken bootstrap: %v\n%s", err, stderr.String())
	}
	var b struct {
		APIKey string `json:"api_key"`
	}
	if err := json.Unmarshal(out, &b); err != nil || b.APIKey == "" {
		t.Fatalf("tooken bootstrap printed %q: %v", out, err)
	}
	return b.APIKey
}

// Process is a running `tooken serve`.
type Process struct {
	URL  string // http://127.0.0.1:port
	cmd  *exec.Cmd
	log  *LockedBuffer
	done chan struct{} // closed when the process has exited; err is then set
	err  error
}

// Start runs `tooken serve` with env on a free loopback port, its output kept (and copied to out,
// when not nil), and waits until /readyz answers 200. The process is killed when the test ends if it
// still runs, and its output is shown if the test failed.
func Start(t testing.TB, env []string, out io.Writer) *Process {
	t.Helper()
	addr := FreeAddr(t)
	cmd := exec.Command(Binary(t), "serve")
	cmd.Env = append(env[:len(env):len(env)], "TOOKEN_ADDR="+addr)
	p := &Process{URL: "http://" + addr, cmd: cmd, log: &LockedBuffer{}, done: make(chan struct{})}
	var w io.Writer = p.log
	if out != nil {
		w = io.MultiWriter(p.log, out)
	}
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.Kill()
		if t.Failed() {
			t.Logf("output of tooken serve on %s:\n%s", addr, p.Log())
		}
	})
	p.WaitReady(t, 30*time.Second)
	return p
}

// WaitReady polls /readyz until it answers 200, failing the test after timeout or if the process exits.
func (p *Process) WaitReady(t testing.TB, timeout time.Duration) {
	t.Helper()
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(timeout)
	for {
		res, err := client.Get(p.URL + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-p.done:
			t.Fatalf("tooken serve exited before it was ready: %v\n%s", p.err, p.Log())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("tooken serve not ready after %v (last: %v)\n%s", timeout, err, p.Log())
		}
	}
}

// Signal sends sig unless the process has exited.
func (p *Process) Signal(sig syscall.Signal) {
	select {
	case <-p.done:
	default:
		_ = p.cmd.Process.Signal(sig)
	}
}

// Kill sends SIGKILL (no graceful shutdown, no last flush) and waits for the process to be gone.
func (p *Process) Kill() {
	p.Signal(syscall.SIGKILL)
	<-p.done
}

// Wait waits up to timeout for the process to exit and reports whether it did.
func (p *Process) Wait(timeout time.Duration) bool {
	select {
	case <-p.done:
		return true
	case <-time.After(timeout):
		return false
	}
}

// Err is how the process ended (nil for exit status 0); valid once Wait reported true.
func (p *Process) Err() error { return p.err }

// Log is everything the process wrote so far.
func (p *Process) Log() string { return p.log.String() }

// FreeAddr returns a loopback address with a port that was free a moment ago.
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// LockedBuffer is a bytes.Buffer safe for a writer and concurrent readers.
type LockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *LockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *LockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
