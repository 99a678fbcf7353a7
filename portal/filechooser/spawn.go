package filechooser

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"airlock/chooser-ui/protocol"
)

// ChooserBinary finds airlock-chooser: $AIRLOCK_CHOOSER, beside the running
// binary, then PATH.
func ChooserBinary() (string, error) {
	if p := os.Getenv("AIRLOCK_CHOOSER"); p != "" {
		return p, nil
	}
	if exe, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(exe), "airlock-chooser")
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p, nil
		}
	}
	p, err := exec.LookPath("airlock-chooser")
	if err != nil {
		return "", errors.New("airlock-chooser is not installed")
	}
	return p, nil
}

// maxResponse bounds what the broker reads from the chooser.
const maxResponse = 1 << 20

// ProcessDialog runs airlock-chooser, a short-lived GTK process on the host
// display, for each dialog: the broker itself never links GTK. A chooser that
// dies, hangs past the request's timeout or prints nonsense yields response
// 2; the application never waits forever.
//
// One chooser is kept started ahead of need, with GTK already set up and
// waiting for its request on stdin (starting GTK3 is most of a dialog's
// 60 ms): each process still serves exactly one dialog, and the next one is
// started when it is taken.
func ProcessDialog(bin string, log *slog.Logger) Dialog {
	d := &chooserPool{bin: bin, log: log}
	if os.Getenv("DISPLAY") != "" || os.Getenv("WAYLAND_DISPLAY") != "" {
		go d.refill() // the first dialog is quick too
	}
	return d.run
}

// chooserPool holds the chooser started ahead of need.
type chooserPool struct {
	bin string
	log *slog.Logger

	// mu guards next.
	mu   sync.Mutex
	next *chooserProc
}

// chooserProc is one airlock-chooser process.
type chooserProc struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	out    responseWriter
	errb   bytes.Buffer
	exited chan struct{}
	err    error // cmd.Wait's, once exited is closed
}

// responseWriter keeps what the chooser prints on its response channel and
// tells when the first line is complete: the chooser prints its response as
// one JSON line as soon as the user has answered, before GTK tears the
// dialog down and the process exits (destroying a GtkFileChooserDialog and
// exiting took most of the 21 ms between Escape and the application's
// Response, tests/bench/RESULTS.md), so the broker answers from the line,
// not from the exit.
type responseWriter struct {
	answered chan struct{} // closed at the first newline

	// mu guards buf and n; the exec package's copying goroutine writes.
	mu  sync.Mutex
	buf bytes.Buffer
	n   int // bytes still accepted
}

func (w *responseWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	had := bytes.IndexByte(w.buf.Bytes(), '\n') >= 0
	q := p
	if len(q) > w.n {
		q = q[:w.n]
	}
	w.n -= len(q)
	w.buf.Write(q)
	if !had && bytes.IndexByte(w.buf.Bytes(), '\n') >= 0 {
		close(w.answered)
	}
	return len(p), nil
}

// line is the first line (all of it when there is no newline).
func (w *responseWriter) line() []byte {
	w.mu.Lock()
	defer w.mu.Unlock()
	b := w.buf.Bytes()
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		b = b[:i]
	}
	return append([]byte(nil), b...)
}

func (d *chooserPool) start(prestart bool) (*chooserProc, error) {
	p := &chooserProc{cmd: exec.Command(d.bin), exited: make(chan struct{})}
	p.out = responseWriter{answered: make(chan struct{}), n: maxResponse}
	// A neutral working folder: GTK's sidebar would show the broker's.
	p.cmd.Dir = workDir()
	// No OpenGL probe: a file chooser draws nothing that needs it, and
	// GTK3 would otherwise set up Mesa in every new chooser process.
	p.cmd.Env = append(os.Environ(), "GDK_GL=disable")
	if prestart {
		p.cmd.Env = append(p.cmd.Env, "AIRLOCK_CHOOSER_PRESTART=1")
	}
	stdin, err := p.cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	p.stdin = stdin
	p.cmd.Stdout = &p.out
	p.cmd.Stderr = &limitedWriter{w: &p.errb, n: 64 << 10}
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := p.cmd.Start(); err != nil {
		return nil, startError(d.bin, p.cmd.Dir, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// take returns the chooser started ahead, if it still runs, or a new one.
// The caller starts the next one (refillLater).
func (d *chooserPool) take() (*chooserProc, error) {
	d.mu.Lock()
	p := d.next
	d.next = nil
	d.mu.Unlock()
	if p != nil {
		select {
		case <-p.exited:
			p = nil // it died waiting (the display went away)
		default:
		}
	}
	if p != nil {
		return p, nil
	}
	return d.start(true)
}

func (d *chooserPool) refill() {
	p, err := d.start(true)
	if err != nil {
		d.log.Debug("cannot start a chooser ahead of need", "err", err)
		return
	}
	d.mu.Lock()
	old := d.next
	d.next = p
	d.mu.Unlock()
	if old != nil {
		old.stdin.Close() // an extra one: it reads EOF and exits
	}
}

func (d *chooserPool) run(ctx context.Context, req protocol.Request) (protocol.Response, error) {
	if os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
		return protocol.Response{}, errors.New("the broker has no display to show the file chooser on")
	}
	in, err := json.Marshal(req)
	if err != nil {
		return protocol.Response{}, err
	}
	limit := time.Duration(req.TimeoutSeconds)*time.Second + 30*time.Second
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	p, err := d.take()
	if err != nil {
		go d.refill()
		return protocol.Response{}, err
	}
	// The next chooser starts once this one has answered, or refillDelay
	// after it was taken, whichever comes first: starting GTK in a new
	// process takes about 60 ms of CPU, and on a 2-core machine it
	// competed with the dialog being built (OpenFile to dialog on screen).
	var once sync.Once
	refill := func() { once.Do(func() { go d.refill() }) }
	timer := time.AfterFunc(refillDelay, refill)
	defer func() {
		timer.Stop()
		refill()
	}()
	start := time.Now()
	p.stdin.Write(in)
	p.stdin.Close()
	select {
	case <-p.out.answered:
		// Answered; the process tears GTK down and exits on its own.
		go p.reap()
	case <-p.exited:
	case <-ctx.Done():
		// Closed by the application, or hung: end the dialog.
		p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(3 * time.Second):
			p.cmd.Process.Kill()
			<-p.exited
		}
		return protocol.Response{}, fmt.Errorf("file chooser ended: %w", ctx.Err())
	}
	var resp protocol.Response
	if err := json.Unmarshal(p.out.line(), &resp); err != nil {
		select {
		case <-p.exited: // p.errb and p.err are final
			if s := strings.TrimSpace(p.errb.String()); s != "" {
				d.log.Debug("chooser stderr", "text", s)
			}
			if p.err != nil {
				return protocol.Response{}, fmt.Errorf("file chooser failed: %v", p.err)
			}
		default:
		}
		return protocol.Response{}, fmt.Errorf("file chooser answered nonsense: %w", err)
	}
	d.log.Debug("chooser answered", "response", resp.Response, "after", time.Since(start))
	return resp, nil
}

// refillDelay bounds how long the next chooser waits to start after one is
// taken (see run).
const refillDelay = 300 * time.Millisecond

// reap waits for a chooser that has answered to exit; one that lingers is
// killed. Nothing it prints after its answer is read as one.
func (p *chooserProc) reap() {
	select {
	case <-p.exited:
	case <-time.After(5 * time.Second):
		p.cmd.Process.Kill()
		<-p.exited
	}
}

// workDir is the chooser's working folder: the user's home, or / when the
// home is missing or not a folder (a system account has none).
func workDir() string {
	if home, err := os.UserHomeDir(); err == nil {
		if st, err := os.Stat(home); err == nil && st.IsDir() {
			return home
		}
	}
	return "/"
}

// startError says which step of starting the chooser failed and on which
// path. Go reports a failed chdir in the child as "fork/exec BINARY: ...",
// naming the binary even when the folder is what is missing.
func startError(bin, dir string, err error) error {
	if st, serr := os.Stat(dir); serr != nil || !st.IsDir() {
		if serr == nil {
			serr = errors.New("not a folder")
		}
		return fmt.Errorf("cannot start the file chooser: chdir %s: %v", dir, serr)
	}
	if st, serr := os.Stat(bin); serr != nil {
		return fmt.Errorf("cannot start the file chooser: exec %s: %v", bin, serr)
	} else if !st.Mode().IsRegular() || st.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("cannot start the file chooser: exec %s: not an executable file", bin)
	}
	return fmt.Errorf("cannot start the file chooser: exec %s: %w", bin, err)
}

type limitedWriter struct {
	w io.Writer
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if len(p) > l.n {
		l.w.Write(p[:l.n])
		l.n = 0
		return len(p), nil
	}
	l.n -= len(p)
	return l.w.Write(p)
}

// Unavailable is the Dialog when no chooser can be shown: every request is
// answered at once with response 2, never left hanging.
func Unavailable(err error) Dialog {
	return func(context.Context, protocol.Request) (protocol.Response, error) {
		return protocol.Response{}, err
	}
}
