package e2e

import (
	"bytes"
	"context"
	"fmt"
	mathrand "math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Bounds: nothing in these tests waits longer than one of these.
const (
	buildTimeout = 5 * time.Minute  // go build ./examples/basic, cold
	startTimeout = 60 * time.Second // a process printing the line that says it listens
	stopTimeout  = 10 * time.Second // a process ending after SIGTERM, before SIGKILL
)

var (
	binDir   string // TestMain's directory for binaries built by the tests
	runStamp string // names this run's artifact directory

	basicOnce sync.Once
	basicPath string
	basicErr  error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ssokit-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir, runStamp = dir, time.Now().Format("20060102-150405")
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// unavailable skips t because a tool it needs is missing, or fails it when
// the environment variable CI is set: on CI a missing browser or provider
// is a broken environment, not a reason to pass.
func unavailable(t *testing.T, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("CI") != "" {
		t.Fatalf("%s (CI is set, so this fails instead of skipping)", msg)
	}
	t.Skipf("%s; or run bash .ci/e2e.sh from the repository root, which installs everything (see e2e/README.md)", msg)
}

// lookTool finds a tool by the path in the environment variable env, or
// else by the first of names on PATH. It returns "" when neither is there.
func lookTool(t *testing.T, env string, names ...string) string {
	t.Helper()
	if p := os.Getenv(env); p != "" {
		found, err := exec.LookPath(p)
		if err != nil {
			unavailable(t, "%s=%s: %v", env, p, err)
		}
		return found
	}
	for _, name := range names {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// repoRoot is the ssokit repository this module sits in.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "examples", "basic", "main.go")); err != nil {
		t.Fatalf("%s is not the ssokit repository: %v", root, err)
	}
	return root
}

// basicBinary builds examples/basic from this repository once per run, with
// the race detector when the tests have it, so a data race in ssoclient met
// by a real browser fails the test that met it.
func basicBinary(t *testing.T) string {
	t.Helper()
	root := repoRoot(t)
	basicOnce.Do(func() {
		goTool, err := exec.LookPath("go")
		if err != nil {
			goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
		}
		out := filepath.Join(binDir, "basic")
		args := []string{"build", "-o", out}
		if raceEnabled {
			args = append(args, "-race")
		}
		args = append(args, "./examples/basic")
		ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
		defer cancel()
		cmd := exec.CommandContext(ctx, goTool, args...)
		cmd.Dir = root
		start := time.Now()
		if b, err := cmd.CombinedOutput(); err != nil {
			basicErr = fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, b)
			return
		}
		basicPath = out
		t.Logf("built examples/basic in %v (race detector: %v)", time.Since(start).Round(time.Millisecond), raceEnabled)
	})
	if basicErr != nil {
		t.Fatal(basicErr)
	}
	return basicPath
}

// freePort returns a loopback TCP port that was free a moment ago, for a
// process that must know its own URL before it listens (the app's
// BASE_URL, Dex's issuer). The port is below the kernel's ephemeral range,
// from which outgoing connections and listeners on port 0 draw theirs, so
// none of them takes it before the process binds it, however long that is.
func freePort(t *testing.T) int {
	t.Helper()
	lo := 32768
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil {
				lo = n
			}
		}
	}
	base := max(lo-10000, 1024)
	if lo-base < 1000 { // an unusual range: take the kernel's choice
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		return ln.Addr().(*net.TCPAddr).Port
	}
	for range 100 {
		port := base + mathrand.IntN(lo-base)
		ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			continue
		}
		ln.Close()
		return port
	}
	t.Fatalf("no free port in [%d, %d) after 100 tries", base, lo)
	return 0
}

// output collects a process's stdout and stderr and wakes whoever waits
// for a line in it.
type output struct {
	mu      sync.Mutex // guards buf and changed
	buf     bytes.Buffer
	changed chan struct{} // closed and replaced on every write
}

func newOutput() *output { return &output{changed: make(chan struct{})} }

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.buf.Write(p)
	close(o.changed)
	o.changed = make(chan struct{})
	return len(p), nil
}

func (o *output) snapshot() (string, <-chan struct{}) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String(), o.changed
}

func (o *output) String() string {
	s, _ := o.snapshot()
	return s
}

// proc is a process a test started: the app or a provider.
type proc struct {
	name string
	cmd  *exec.Cmd
	out  *output
	done chan struct{} // closed when the process has exited
	err  error         // how it exited, once done is closed
}

// startProc starts cmd and ends it when t ends: SIGTERM, then SIGKILL after
// stopTimeout. When t failed, the process's output is logged and saved
// with the artifacts.
func startProc(t *testing.T, name string, cmd *exec.Cmd) *proc {
	t.Helper()
	p := &proc{name: name, cmd: cmd, out: newOutput(), done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	dieWithTest(cmd)
	started := make(chan error, 1)
	go func() {
		// The thread that starts the process stays with this goroutine
		// until the process ends: on Linux its death would kill it.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		p.err = cmd.Wait()
		close(p.done)
	}()
	if err := <-started; err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			out := p.out.String()
			saveArtifact(t, name+".log", []byte(out))
			t.Logf("%s output:\n%s", name, tail(out, 60))
		}
	})
	return p
}

// stop ends the process and waits for it, bounded.
func (p *proc) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(stopTimeout):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// waitFor waits until the process prints a line matching re, and returns
// the submatches. It fails t when the process exits first or when
// startTimeout passes.
func (p *proc) waitFor(t *testing.T, re *regexp.Regexp) []string {
	t.Helper()
	deadline := time.NewTimer(startTimeout)
	defer deadline.Stop()
	for {
		s, changed := p.out.snapshot()
		if m := re.FindStringSubmatch(s); m != nil {
			return m
		}
		select {
		case <-changed:
		case <-p.done:
			if m := re.FindStringSubmatch(p.out.String()); m != nil {
				return m
			}
			t.Fatalf("%s exited (%v) before printing a line matching %q; its output:\n%s", p.name, p.err, re, tail(p.out.String(), 40))
		case <-deadline.C:
			t.Fatalf("%s printed no line matching %q in %v; its output:\n%s", p.name, re, startTimeout, tail(p.out.String(), 40))
		}
	}
}

// app is examples/basic, running.
type app struct {
	*proc
	URL string // its BASE_URL: http://localhost:PORT
}

var listeningLine = regexp.MustCompile(`listening on (http://\S+)`)

// startBasic runs examples/basic on 127.0.0.1:port with BASE_URL
// http://localhost:port, and env (NAME=value) on top of an environment
// without SSO_ variables. The app's host differs from the providers'
// (127.0.0.1), so the browser treats the sign-in's return to the app as
// the cross-site navigation it is in production, and SameSite matters.
func startBasic(t *testing.T, port int, env ...string) *app {
	t.Helper()
	bin := basicBinary(t)
	base := "http://localhost:" + strconv.Itoa(port)
	cmd := exec.Command(bin)
	cmd.Env = append(cleanEnv(), "ADDR=127.0.0.1:"+strconv.Itoa(port), "BASE_URL="+base, "GORACE=halt_on_error=1")
	cmd.Env = append(cmd.Env, env...)
	p := startProc(t, "basic", cmd)
	t.Cleanup(func() {
		// After stop (cleanups run last-in first-out, and startProc's
		// was registered first): the output is complete.
		if out := p.out.String(); strings.Contains(out, "WARNING: DATA RACE") {
			t.Errorf("examples/basic met a data race:\n%s", tail(out, 80))
		}
	})
	m := p.waitFor(t, listeningLine)
	if want := "http://127.0.0.1:" + strconv.Itoa(port); m[1] != want {
		t.Fatalf("examples/basic listens on %s, want %s", m[1], want)
	}
	return &app{proc: p, URL: base}
}

// cleanEnv is this process's environment less anything that configures
// examples/basic, so a developer's SSO_ISSUER cannot leak into a test.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SSO_") && !strings.HasPrefix(kv, "ADDR=") && !strings.HasPrefix(kv, "BASE_URL=") {
			env = append(env, kv)
		}
	}
	return env
}

// tail is the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{fmt.Sprintf("[... %d lines before]", len(lines)-n)}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}

// artifactDir is where a failed test leaves its screenshots, pages and
// logs: $E2E_ARTIFACTS, or e2e/artifacts (ignored by git), then the run's
// start time and the test's name. t.TempDir would delete them.
func artifactDir(t *testing.T) string {
	base := os.Getenv("E2E_ARTIFACTS")
	if base == "" {
		base = "artifacts"
	}
	base, err := filepath.Abs(base)
	if err != nil {
		base = filepath.Join(os.TempDir(), "ssokit-e2e-artifacts")
	}
	name := strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == ' ' || r == ':' {
			return '_'
		}
		return r
	}, t.Name())
	return filepath.Join(base, runStamp, name)
}

var announced sync.Map // test name → true once its artifact directory is logged

// saveArtifact writes one file into t's artifact directory and, the first
// time, logs where that directory is.
func saveArtifact(t *testing.T, name string, data []byte) {
	dir := artifactDir(t)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Logf("artifacts: %v", err)
		return
	}
	if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
		t.Logf("artifacts: %v", err)
		return
	}
	if _, seen := announced.LoadOrStore(t.Name(), true); !seen {
		t.Logf("screenshots, pages and logs of this failure are in %s", dir)
	}
}
