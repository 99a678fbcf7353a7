package launcher_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"airlock/tests/harness"
)

// TestStdioHostFileBecomesPipe: issue 8, item 6. With `airlock run ... >>
// ~/app.log` the application learnt the log's host path from
// /proc/self/fd/1 and reopened the file through that magic link, reading
// what the user had in it. A host file as 0, 1 or 2 now reaches the
// sandbox as a pipe that the launcher pumps: readlink shows pipe:[N], the
// file still gets every byte, and the exit status is the application's.
func TestStdioHostFileBecomesPipe(t *testing.T) {
	t.Parallel()
	e := harness.Get(t)
	dir := e.UserDir(t)
	log := filepath.Join(dir, "app-secret-name.log")
	const before = "earlier host content SECRET-MARKER\n"
	e.WriteUserFile(t, log, before, 0o600)
	in := filepath.Join(dir, "input-secret-name.txt")
	e.WriteUserFile(t, in, "input line\n", 0o600)

	out, err := os.OpenFile(log, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	stdin, err := os.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// A large output (8 MiB, well over a pipe's 64 KiB), then the exit
	// status 7. The shell's /proc/$$/fd/1 is the launcher's stdout for it:
	// reopened for reading (without blocking), a host file would give its
	// earlier content; a pipe gives nothing.
	//
	// The reopen comes first, before anything is written: reopened for
	// reading, the pipe's write end gives its read end, which would steal
	// output the launcher has not pumped yet.
	script := `x=$(dd if=/proc/$$/fd/1 iflag=nonblock bs=4096 count=1 2>/dev/null)
readlink /proc/self/fd/0 /proc/self/fd/1 /proc/self/fd/2; read line; echo "read: $line"
case "$x" in *SECRET-MARKER*) echo REOPENED-HOST-FILE;; *) echo NOT-REOPENED;; esac
echo to-stderr >&2
head -c 8388608 /dev/zero | tr '\0' a
echo
echo end
exit 7`
	cmd := e.Airlock(ctx, "run", "--", "/bin/sh", "-c", script)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, out, out // 2>&1, as in `>> log 2>&1`
	r := harness.RunCmd(cmd)
	if r.Code != 7 {
		t.Errorf("exit status %d, want the application's 7 (stderr: %s)", r.Code, r.Stderr)
	}
	b, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.TrimPrefix(string(b), before)
	lines := strings.Split(got, "\n")
	if len(lines) < 8 {
		t.Fatalf("host file got %d lines: %.300q", len(lines), got)
	}
	for i := 0; i < 3; i++ {
		if !strings.HasPrefix(lines[i], "pipe:[") {
			t.Errorf("readlink /proc/self/fd/%d inside: %.80q, want pipe:[N]", i, lines[i])
		}
	}
	if strings.Contains(got, "secret-name") {
		t.Errorf("a host path showed inside: %.300q", got)
	}
	if lines[3] != "read: input line" {
		t.Errorf("stdin through the pipe: %.80q", lines[3])
	}
	if lines[4] != "NOT-REOPENED" {
		t.Errorf("reopening /proc/$$/fd/1: %.80q", lines[4])
	}
	if lines[5] != "to-stderr" {
		t.Errorf("stderr, in order with stdout: %.80q", lines[5])
	}
	if len(lines[6]) != 8<<20 || strings.Trim(lines[6], "a") != "" {
		t.Errorf("large output: %d bytes, want %d", len(lines[6]), 8<<20)
	}
	if t.Failed() {
		short := make([]string, 0, len(lines))
		for _, l := range lines {
			if len(l) > 80 {
				l = l[:40] + "..." + l[len(l)-20:]
			}
			short = append(short, l)
		}
		t.Logf("host file after the run (long lines cut):\n%s", strings.Join(short, "\n"))
	}
	if lines[7] != "end" {
		t.Errorf("output after the large one: %.80q", lines[7])
	}
}
