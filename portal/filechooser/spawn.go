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
func ProcessDialog(bin string, log *slog.Logger) Dialog {
	return func(ctx context.Context, req protocol.Request) (protocol.Response, error) {
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
		cmd := exec.CommandContext(ctx, bin)
		// A neutral working folder: GTK's sidebar would show the broker's.
		if home, err := os.UserHomeDir(); err == nil {
			cmd.Dir = home
		}
		// No OpenGL probe: a file chooser draws nothing that needs it, and
		// GTK3 would otherwise set up Mesa in every new chooser process.
		cmd.Env = append(os.Environ(), "GDK_GL=disable")
		cmd.Stdin = bytes.NewReader(in)
		var out bytes.Buffer
		cmd.Stdout = &limitedWriter{w: &out, n: maxResponse}
		var errb bytes.Buffer
		cmd.Stderr = &limitedWriter{w: &errb, n: 64 << 10}
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
		cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
		cmd.WaitDelay = 3 * time.Second
		start := time.Now()
		runErr := cmd.Run()
		if s := strings.TrimSpace(errb.String()); s != "" {
			log.Debug("chooser stderr", "text", s)
		}
		if ctx.Err() != nil {
			return protocol.Response{}, fmt.Errorf("file chooser ended: %w", ctx.Err())
		}
		var resp protocol.Response
		if err := json.Unmarshal(out.Bytes(), &resp); err != nil {
			if runErr != nil {
				return protocol.Response{}, fmt.Errorf("file chooser failed: %v", runErr)
			}
			return protocol.Response{}, fmt.Errorf("file chooser answered nonsense: %w", err)
		}
		log.Debug("chooser answered", "response", resp.Response, "after", time.Since(start))
		return resp, nil
	}
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
