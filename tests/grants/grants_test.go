// Package grants_test checks how a file granted to a running sandbox reaches
// it: only through the document store (profile grants = "revocable", the
// default) or, for read-only files, also natively bound (grants =
// "native-irrevocable"), and that revoking removes it at once either way,
// and cuts what the application opened unless the grant was native
// (revoke_test.go).
package grants_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"airlock/tests/harness"
)

// shell is an interactive /bin/sh inside a sandbox.
type shell struct {
	in  io.WriteCloser
	out *bufio.Scanner
	cmd *exec.Cmd
}

// stop ends the shell and waits for its sandbox to end.
func (s *shell) stop() {
	s.in.Close()
	s.cmd.Wait()
}

func startShell(t *testing.T, e *harness.Env, name string, flags ...string) *shell {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	args := append(append([]string{"run", "--name", name}, flags...), "--", "/bin/sh", "-s")
	cmd := e.Airlock(ctx, args...)
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &shell{in: in, out: bufio.NewScanner(out), cmd: cmd}
	t.Cleanup(s.stop)
	s.run(t, "true")
	return s
}

// run runs script in the sandbox's shell and returns its output lines.
func (s *shell) run(t *testing.T, script string) []string {
	t.Helper()
	fmt.Fprintf(s.in, "%s\necho __END__\n", script)
	var lines []string
	for s.out.Scan() {
		if s.out.Text() == "__END__" {
			return lines
		}
		lines = append(lines, s.out.Text())
	}
	t.Fatalf("the sandbox's shell ended during %q: %v", script, lines)
	return nil
}

func grant(t *testing.T, e *harness.Env, name, path string) (doc, inside string) {
	t.Helper()
	r := e.Run(t, "grant", name, path)
	if r.Code != 0 {
		t.Fatalf("airlock grant: %v", r)
	}
	f := strings.Fields(r.Stdout)
	if len(f) != 2 {
		t.Fatalf("airlock grant printed %q", r.Stdout)
	}
	return f[0], f[1]
}

func hostFile(t *testing.T, e *harness.Env, content string) string {
	dir := e.UserDir(t)
	p := filepath.Join(dir, "secret-folder-name", "report.txt")
	os.MkdirAll(filepath.Dir(p), 0o755)
	os.Chown(filepath.Dir(p), e.UID, e.GID)
	e.WriteUserFile(t, p, content, 0o644)
	return p
}

// TestNativeReadOnlyGrant: with grants = "native-irrevocable" a read-only
// file grant is a read-only mount of the host file. Revoking it removes the
// mount and the path, and says, honestly, that a descriptor opened before
// still reads the file: it does, the host's new content too, also reopened
// through /proc/self/fd (a mount lives as long as a file opened through it).
func TestNativeReadOnlyGrant(t *testing.T) {
	t.Parallel()
	e := harness.Get(t).SessionBus(t)
	name := fmt.Sprintf("native-%d", time.Now().UnixNano())
	prof := filepath.Join(e.UserDir(t), "native.toml")
	e.WriteUserFile(t, prof, "grants = \"native-irrevocable\"\n", 0o644)
	sh := startShell(t, e, name, "--profile", prof)
	p := hostFile(t, e, "native bytes\n")
	doc, inside := grant(t, e, name, p)

	if got := sh.run(t, "exec 3< "+inside+"; cat "+inside); len(got) != 1 || got[0] != "native bytes" {
		t.Fatalf("read inside: %q", got)
	}
	// airlock grants says which grants revoking cannot cut entirely.
	if r := e.Run(t, "grants", name); !strings.Contains(r.Stdout, doc+"  ro,native ") {
		t.Errorf("airlock grants does not list %s as native: %v", doc, r)
	}
	// A mount of its own, read-only, from the host's file system: the
	// kernel's page cache of the host file serves reads (native speed).
	mi := sh.run(t, "grep ' "+inside+" ' /proc/self/mountinfo")
	if len(mi) != 1 || !strings.Contains(mi[0], " ro,") || strings.Contains(mi[0], "fuse") {
		t.Fatalf("no native read-only mount at %s: %q", inside, mi)
	}
	if got := sh.run(t, "echo x >> "+inside+" 2>/dev/null && echo WROTE || echo REFUSED"); got[0] != "REFUSED" {
		t.Fatalf("write to a read-only grant: %q", got)
	}
	if b, _ := os.ReadFile(p); string(b) != "native bytes\n" {
		t.Fatalf("host file changed: %q", b)
	}
	r := e.Run(t, "revoke", name, doc)
	if r.Code != 0 {
		t.Fatalf("revoke: %v", r)
	}
	if !strings.Contains(r.Stderr, "native-irrevocable") || !strings.Contains(r.Stderr, "stays readable") {
		t.Errorf("revoke of a native grant does not say it stays readable: %v", r)
	}
	if got := sh.run(t, "cat "+inside+" 2>&1 || echo GONE; grep -c ' "+inside+" ' /proc/self/mountinfo"); got[len(got)-2] != "GONE" || got[len(got)-1] != "0" {
		t.Fatalf("after revoke: %q", got)
	}
	rewrite(t, p, "NEW host bytes\n")
	if got := sh.run(t, "cat <&3; cat /proc/self/fd/3; exec 3<&-"); len(got) != 2 || got[0] != "NEW host bytes" || got[1] != "NEW host bytes" {
		t.Errorf("after revoke, the descriptor opened before and its reopen read %q: the warning is not true any more, change it", got)
	}
}

func TestPrivateGrantShowsNoHostPath(t *testing.T) {
	t.Parallel()
	e := harness.Get(t).SessionBus(t)
	name := fmt.Sprintf("private-%d", time.Now().UnixNano())
	prof := filepath.Join(e.UserDir(t), "private.toml")
	e.WriteUserFile(t, prof, "grants = \"private\"\n", 0o644)
	sh := startShell(t, e, name, "--profile", prof)
	p := hostFile(t, e, "private bytes\n")
	doc, inside := grant(t, e, name, p)

	if got := sh.run(t, "cat "+inside); len(got) != 1 || got[0] != "private bytes" {
		t.Fatalf("read inside: %q", got)
	}
	mi := sh.run(t, "cat /proc/self/mountinfo")
	for _, l := range mi {
		if strings.Contains(l, "secret-folder-name") || strings.Contains(l, filepath.Dir(p)) {
			t.Fatalf("the host folder shows inside: %q", l)
		}
	}
	if r := e.Run(t, "revoke", name, doc); r.Code != 0 {
		t.Fatalf("revoke: %v", r)
	}
	if got := sh.run(t, "cat "+inside+" 2>/dev/null || echo GONE"); got[0] != "GONE" {
		t.Fatalf("after revoke: %q", got)
	}
}

// TestPersistentGrants: with persistent_grants = true a grant outlives its
// sandbox and comes back, at the same path, in the profile's next sandbox;
// without it the next sandbox starts with nothing (amnesic).
func TestPersistentGrants(t *testing.T) {
	t.Parallel()
	e := harness.Get(t).SessionBus(t)
	state := e.UserDir(t)
	e = e.WithEnv("XDG_STATE_HOME=" + state)
	dir := e.UserDir(t)
	for _, tc := range []struct {
		persistent bool
		want       string
	}{{true, "kept bytes"}, {false, "GONE"}} {
		prof := filepath.Join(dir, fmt.Sprintf("keep-%v.toml", tc.persistent))
		e.WriteUserFile(t, prof, fmt.Sprintf("persistent_grants = %v\ngrants = \"native-irrevocable\"\n", tc.persistent), 0o644)
		p := hostFile(t, e, "kept bytes\n")
		name := fmt.Sprintf("keep-%v-%d", tc.persistent, time.Now().UnixNano())
		sh := startShell(t, e, name, "--profile", prof)
		_, inside := grant(t, e, name, p)
		if got := sh.run(t, "cat "+inside); len(got) != 1 || got[0] != "kept bytes" {
			t.Fatalf("first sandbox reads %q", got)
		}
		sh.stop()
		// The next sandbox of the same profile.
		r := e.Run(t, "run", "--profile", prof, "--", "/bin/sh", "-c", "cat "+inside+" 2>/dev/null || echo GONE; grep ' "+inside+" ' /proc/self/mountinfo || true")
		lines := strings.Split(strings.TrimSpace(r.Stdout), "\n")
		if lines[0] != tc.want {
			t.Errorf("persistent_grants = %v: the next sandbox reads %q, want %q (%v)", tc.persistent, r.Stdout, tc.want, r)
		}
		// A restored read-only grant is bound natively too (grants =
		// "native-irrevocable").
		if tc.persistent && (len(lines) < 2 || !strings.Contains(lines[1], " ro,") || strings.Contains(lines[1], "fuse")) {
			t.Errorf("restored grant not bound natively: %q", r.Stdout)
		}
	}
}

// TestPsShowsBroker: airlock ps asks the broker which sandboxes it serves.
func TestPsShowsBroker(t *testing.T) {
	t.Parallel()
	e := harness.Get(t).SessionBus(t)
	name := fmt.Sprintf("ps-%d", time.Now().UnixNano())
	startShell(t, e, name)
	grant(t, e, name, hostFile(t, e, "x"))
	r := e.Run(t, "ps")
	for _, l := range strings.Split(r.Stdout, "\n") {
		if strings.Contains(l, name) {
			if !strings.Contains(l, "yes, 1 grants") {
				t.Fatalf("ps line %q: want the broker's \"yes, 1 grants\"", l)
			}
			return
		}
	}
	t.Fatalf("ps does not list %s: %v", name, r)
}

// TestPersistentGrantNotRestoredThroughSymlink: a sandbox whose profile
// keeps grants, granted a file in its own persistent folder, replaces that
// file with a symlink to a secret of the user's. The next run restores
// nothing through the link: neither the store nor a native bind hands out
// the secret.
func TestPersistentGrantNotRestoredThroughSymlink(t *testing.T) {
	t.Parallel()
	e := harness.Get(t).SessionBus(t)
	e = e.WithEnv("XDG_STATE_HOME=" + e.UserDir(t))
	base := e.UserDir(t)
	keep := filepath.Join(base, "keep")
	secret := filepath.Join(base, "secret.txt")
	e.WriteUserFile(t, secret, "the user's secret\n", 0o600)
	prof := filepath.Join(base, "keep.toml")
	e.WriteUserFile(t, prof, fmt.Sprintf("persistent_grants = true\n[[persist]]\nhost = %q\nsandbox = \"~/keep\"\n", keep), 0o644)

	// First run: the persistent folder is created; the user grants a file
	// in it; the sandbox swaps the file for a link to the secret.
	name := fmt.Sprintf("plant-%d", time.Now().UnixNano())
	sh := startShell(t, e, name, "--profile", prof)
	sh.run(t, "echo notes > ~/keep/notes.txt")
	_, inside := grant(t, e, name, filepath.Join(keep, "notes.txt"))
	if got := sh.run(t, "cat "+inside); len(got) != 1 || got[0] != "notes" {
		t.Fatalf("first run reads %q", got)
	}
	sh.run(t, "rm ~/keep/notes.txt && ln -s "+secret+" ~/keep/notes.txt")
	sh.stop()

	// Second run: the saved grant is not restored through the link.
	r := e.Run(t, "run", "--profile", prof, "--", "/bin/sh", "-c", "cat "+inside+" 2>/dev/null || echo GONE")
	if strings.Contains(r.Stdout, "secret") || strings.TrimSpace(r.Stdout) != "GONE" {
		t.Fatalf("the next run reads %q through the planted link, want GONE (%v)", r.Stdout, r)
	}
}

// TestSymlinkNotGranted: the broker grants no symbolic link, whoever asks
// (the chooser's answer, SaveFiles' names, the control interface): a link
// planted in a folder a sandbox can write would hand out its target.
func TestSymlinkNotGranted(t *testing.T) {
	t.Parallel()
	e := harness.Get(t).SessionBus(t)
	name := fmt.Sprintf("link-%d", time.Now().UnixNano())
	startShell(t, e, name)
	dir := e.UserDir(t)
	secret := filepath.Join(dir, "secret.txt")
	e.WriteUserFile(t, secret, "secret\n", 0o600)
	bait := filepath.Join(dir, "photo.jpg")
	if err := os.Symlink(secret, bait); err != nil {
		t.Fatal(err)
	}
	id := ""
	for _, l := range strings.Split(e.Run(t, "ps").Stdout, "\n") {
		if f := strings.Fields(l); len(f) > 1 && f[1] == name {
			id = f[0]
		}
	}
	if id == "" {
		t.Fatal("sandbox not listed")
	}
	// Straight to the control interface, as the chooser's grant does: the
	// CLI resolves links itself before asking.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r := harness.RunCmd(e.Command(ctx, "gdbus", "call", "--session", "--dest", "org.airlock.Portal",
		"--object-path", "/org/airlock/Portal", "--method", "org.airlock.Portal1.Grant", id, bait, "false"))
	if r.Code == 0 || !strings.Contains(r.Stdout+r.Stderr, "symbolic link") {
		t.Fatalf("granting a symlink: %v, want a refusal naming the symbolic link", r)
	}
}

// TestModesNeverWidenThroughStore: an app with a writable folder grant runs
// chmod 0777 on the folder, on a file in it and on a file it creates: the
// host keeps them no wider than they were (group and other bits never
// added), and a set-id bit is refused (issue 8, item 6; portal/docstore
// mode.go).
func TestModesNeverWidenThroughStore(t *testing.T) {
	t.Parallel()
	e := harness.Get(t).SessionBus(t)
	name := fmt.Sprintf("modes-%d", time.Now().UnixNano())
	sh := startShell(t, e, name)
	folder := filepath.Join(e.UserDir(t), "project")
	os.Mkdir(folder, 0o750)
	os.Chmod(folder, 0o750)
	os.Chown(folder, e.UID, e.GID)
	file := filepath.Join(folder, "notes.txt")
	e.WriteUserFile(t, file, "notes\n", 0o640)
	os.Chmod(file, 0o640)
	r := e.Run(t, "grant", "--rw", name, folder)
	f := strings.Fields(r.Stdout)
	if r.Code != 0 || len(f) != 2 {
		t.Fatalf("airlock grant --rw: %v", r)
	}
	in := f[1]
	got := sh.run(t, "umask 000; cd "+in+" && chmod 0777 . notes.txt && echo > new.txt && chmod 0777 new.txt && mkdir sub && chmod 0777 sub; echo chmod=$?; "+
		"chmod 4755 notes.txt 2>/dev/null && echo SETUID || echo REFUSED; chmod 2755 . 2>/dev/null && echo SETGID || echo REFUSED")
	if len(got) != 3 || got[1] != "REFUSED" || got[2] != "REFUSED" {
		t.Errorf("inside: %q, want the set-id chmods refused", got)
	}
	for _, c := range []struct {
		path string
		max  os.FileMode
	}{{folder, 0o750}, {file, 0o750}, {filepath.Join(folder, "new.txt"), 0o744}, {filepath.Join(folder, "sub"), 0o755}} {
		st, err := os.Stat(c.path)
		if err != nil {
			t.Errorf("host %s: %v", c.path, err)
			continue
		}
		if m := st.Mode(); m&(os.ModeSetuid|os.ModeSetgid|os.ModeSticky) != 0 || m.Perm()&^c.max != 0 || m.Perm()&0o022 != 0 {
			t.Errorf("host %s is %v after chmod 0777 inside, want at most %v", c.path, m, c.max)
		}
	}
}
