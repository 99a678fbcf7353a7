package filechooser

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"airlock/chooser-ui/protocol"
)

// fakeChooser writes a chooser that reads its request, records its pid,
// prints line and then stays (sleep), as a GTK chooser still tearing its
// dialog down does.
func fakeChooser(t *testing.T, line string) (bin, pidFile string) {
	t.Helper()
	dir := t.TempDir()
	bin = filepath.Join(dir, "airlock-chooser")
	pidFile = filepath.Join(dir, "pid")
	script := "#!/bin/sh\ncat >/dev/null\necho $$ >" + pidFile + ".tmp && mv " + pidFile + ".tmp " + pidFile + "\nprintf '%s\\n' '" + line + "'\nexec sleep 60\n"
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return bin, pidFile
}

func testPool(t *testing.T, bin string) *chooserPool {
	t.Setenv("DISPLAY", ":0") // run refuses without a display; nothing here opens it
	d := &chooserPool{bin: bin, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	t.Cleanup(func() {
		d.mu.Lock()
		p := d.next
		d.mu.Unlock()
		if p != nil {
			p.cmd.Process.Kill()
			<-p.exited
		}
	})
	return d
}

// TestAnswerBeforeExit: the broker answers from the chooser's response line
// while the chooser process still runs (it tears GTK down after printing):
// the application's Response does not wait for the exit.
func TestAnswerBeforeExit(t *testing.T) {
	bin, pidFile := fakeChooser(t, `{"response":1}`)
	d := testPool(t, bin)
	resp, err := d.run(context.Background(), protocol.Request{Mode: protocol.ModeOpen, SandboxName: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Response != protocol.ResponseCancelled {
		t.Fatalf("response %d, want %d", resp.Response, protocol.ResponseCancelled)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	// Still running: the answer came from the line, not from the exit.
	if err := syscall.Kill(pid, 0); err != nil {
		t.Fatalf("the chooser had exited before the broker answered (%v): the answer waited for the exit", err)
	}
	syscall.Kill(pid, syscall.SIGKILL)
}

// TestNonsenseLine: a first line that is not a response is an error, also
// while the process still runs.
func TestNonsenseLine(t *testing.T) {
	bin, pidFile := fakeChooser(t, "Gtk-WARNING: not a response")
	d := testPool(t, bin)
	_, err := d.run(context.Background(), protocol.Request{Mode: protocol.ModeOpen, SandboxName: "x"})
	if err == nil || !strings.Contains(err.Error(), "nonsense") {
		t.Fatalf("error %v, want one about nonsense", err)
	}
	if b, err := os.ReadFile(pidFile); err == nil {
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}
