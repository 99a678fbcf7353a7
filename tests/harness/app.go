package harness

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"syscall"
	"testing"
	"time"
)

// App is `airlock run flags... -- command...` running in the background as
// the test user: the test writes lines to its stdin (Send) and waits on what
// it prints (WaitOutput). The integration tests drive sandboxed applications
// through it.
type App struct {
	Cmd         *exec.Cmd
	Stdin       *os.File // the write end of the application's stdin
	Out, ErrOut SyncBuffer
	Res         Result // once it ended
	done        chan struct{}
	log         func() string // printed beside a failure (the broker's log)
}

// appLimit bounds each wait against hangs; it is not a timing assertion.
const appLimit = 180 * time.Second

// StartApp starts the sandbox and makes sure it is gone by the end of the
// test: at cleanup its stdin closes, then it gets SIGTERM (the launcher
// forwards it to the application), then its process group is killed. log
// returns what to print beside a failure (nil: nothing).
func (e *Env) StartApp(t *testing.T, log func() string, flags []string, command ...string) *App {
	t.Helper()
	if log == nil {
		log = func() string { return "" }
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	args := append(append([]string{"run"}, flags...), "--")
	cmd := e.Airlock(ctx, append(args, command...)...)
	a := &App{Cmd: cmd, done: make(chan struct{}), log: log}
	r, w, err := os.Pipe()
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	a.Stdin = w
	cmd.Stdin = r
	cmd.Stdout, cmd.Stderr = &a.Out, &a.ErrOut
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("cannot start %v: %v", cmd.Args, err)
	}
	r.Close()
	go func() {
		err := cmd.Wait()
		a.Res = Result{Stdout: a.Out.String(), Stderr: a.ErrOut.String()}
		if err != nil {
			a.Res.Code = -1
			if ee, ok := err.(*exec.ExitError); ok {
				a.Res.Code = ee.ExitCode()
				if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
					a.Res.Code = 128 + int(ws.Signal())
				}
			}
		}
		close(a.done)
	}()
	t.Cleanup(func() {
		w.Close()
		select {
		case <-a.done:
			cancel()
			return
		default:
		}
		syscall.Kill(cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-a.done:
		case <-time.After(10 * time.Second):
		}
		cancel()
		<-a.done
	})
	return a
}

// Send writes a line to the application's stdin.
func (a *App) Send(t *testing.T, line string) {
	t.Helper()
	if _, err := fmt.Fprintln(a.Stdin, line); err != nil {
		t.Fatalf("cannot write to the sandbox's stdin: %v", err)
	}
}

// Exited reports whether the sandbox has ended.
func (a *App) Exited() bool {
	select {
	case <-a.done:
		return true
	default:
		return false
	}
}

// Wait waits for the sandbox to end.
func (a *App) Wait(t *testing.T) Result {
	t.Helper()
	select {
	case <-a.done:
		return a.Res
	case <-time.After(appLimit):
		t.Fatalf("%v did not end\nstdout:\n%s\nstderr:\n%s\nportal log:\n%s", a.Cmd.Args, a.Out.String(), a.ErrOut.String(), a.log())
	}
	return Result{}
}

// WaitOutput polls the application's stdout until re matches a line and
// returns the submatches.
func (a *App) WaitOutput(t *testing.T, re string) []string {
	t.Helper()
	rx := regexp.MustCompile("(?m)" + re)
	deadline := time.Now().Add(appLimit)
	for {
		if m := rx.FindStringSubmatch(a.Out.String()); m != nil {
			return m
		}
		if a.Exited() {
			// One last look: the output may have arrived with the exit.
			if m := rx.FindStringSubmatch(a.Out.String()); m != nil {
				return m
			}
			t.Fatalf("the sandbox ended without printing %q: %v\nportal log:\n%s", re, a.Res, a.log())
		}
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %q\nstdout:\n%s\nstderr:\n%s\nportal log:\n%s", re, a.Out.String(), a.ErrOut.String(), a.log())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
