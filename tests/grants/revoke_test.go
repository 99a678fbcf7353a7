package grants_test

// Revocation must cut access (issue 8 item 5): after `airlock revoke`, the
// application reads nothing more of the file, through the path, through a
// descriptor it opened before, through that descriptor reopened at
// /proc/self/fd/N, through a mapping, or from a working directory inside a
// revoked folder. These hold for grants served by the document store, which
// is the default (grants = "revocable"); a profile that asks for
// grants = "native-irrevocable" is told, by revoke itself, that they do not.

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"airlock/tests/harness"
)

// docOf returns the document id and inside path of the grant of host in the
// sandbox name, from `airlock grants`.
func docOf(t *testing.T, e *harness.Env, name, host string) (doc, inside string) {
	t.Helper()
	r := e.Run(t, "grants", name)
	for _, l := range strings.Split(r.Stdout, "\n") {
		if f := strings.Fields(l); len(f) == 5 && f[3] == host {
			return f[1], f[4]
		}
	}
	t.Fatalf("no grant of %s in %v", host, r)
	return "", ""
}

// rewrite changes the host file in place (same inode), as an application on
// the host saving without a rename would.
func rewrite(t *testing.T, p, content string) {
	t.Helper()
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(content); err != nil {
		t.Fatal(err)
	}
}

// TestRevokeCutsOpenFile: a read-only file grant of the default profile,
// granted while the sandbox runs and named on the command line, held open
// on descriptor 3 across the revocation. Afterwards the descriptor reads
// nothing (EIO), reopening it through /proc/self/fd/3 fails, and a new open
// of the path fails; neither the old bytes nor the host's new ones come
// through. Before grants were revocable by default (native binds), the
// descriptor and its reopen read the host's new content. A writable grant
// (--rw), open read-write, also writes nothing more.
func TestRevokeCutsOpenFile(t *testing.T) {
	t.Parallel()
	e := harness.Get(t).SessionBus(t)
	for _, how := range []string{"airlock grant", "--ro", "--rw"} {
		t.Run(strings.ReplaceAll(how, " ", "-"), func(t *testing.T) {
			p := hostFile(t, e, "old bytes\n")
			name := fmt.Sprintf("revoke-fd-%d", time.Now().UnixNano())
			var sh *shell
			var doc, inside string
			open := "exec 3< "
			if how == "airlock grant" {
				sh = startShell(t, e, name)
				doc, inside = grant(t, e, name, p)
			} else {
				sh = startShell(t, e, name, how, p)
				doc, inside = docOf(t, e, name, p)
			}
			if how == "--rw" {
				open = "exec 3<> "
			}
			if got := sh.run(t, open+inside+"; cat "+inside); len(got) != 1 || got[0] != "old bytes" {
				t.Fatalf("read inside: %q", got)
			}
			r := e.Run(t, "revoke", name, doc)
			if r.Code != 0 {
				t.Fatalf("revoke: %v", r)
			}
			if strings.Contains(r.Stdout+r.Stderr, "still") {
				t.Errorf("revoke of a revocable grant warns: %v", r)
			}
			rewrite(t, p, "NEW host bytes\n")
			for _, tc := range []struct{ what, script string }{
				{"the descriptor opened before", "cat <&3"},
				{"its reopen through /proc/self/fd/3", "cat /proc/self/fd/3"},
				{"a new open of the path", "cat " + inside},
			} {
				got := sh.run(t, tc.script+" 2>/dev/null; echo rc=$?")
				if len(got) != 1 || got[0] == "rc=0" {
					t.Errorf("after revoke, %s reads %q", tc.what, got)
				}
			}
			if how == "--rw" {
				if got := sh.run(t, "echo LEAK >&3 2>/dev/null; echo rc=$?"); len(got) != 1 || got[0] == "rc=0" {
					t.Errorf("after revoke, a write on the descriptor opened before: %q", got)
				}
			}
			sh.run(t, "exec 3<&-")
			if b, _ := os.ReadFile(p); string(b) != "NEW host bytes\n" {
				t.Errorf("host file after revoke: %q", b)
			}
		})
	}
}

// TestRevokeCutsMapping: pages of the granted file mapped before the
// revocation are unmapped by it (the store invalidates the file's page
// cache, which takes the pages out of every mapping): the next access
// faults, the store answers EIO and the kernel sends SIGBUS. Best effort:
// pages the application copied (a private mapping it wrote to) are its own.
func TestRevokeCutsMapping(t *testing.T) {
	t.Parallel()
	e := harness.Get(t).SessionBus(t)
	name := fmt.Sprintf("revoke-mmap-%d", time.Now().UnixNano())
	sh := startShell(t, e, name)
	p := hostFile(t, e, "mapped bytes\n")
	doc, inside := grant(t, e, name, p)
	// Maps the file, reads it, waits for /tmp/go, reads the mapping again.
	const prog = `import mmap, os, sys, time
f = open(sys.argv[1], "rb")
m = mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ)
print("before", m[:12].decode(), flush=True)
while not os.path.exists("/tmp/go"):
    time.sleep(0.01)
print("after", m[:14].decode(), flush=True)
`
	if got := sh.run(t, fmt.Sprintf("/usr/bin/python3 -c '%s' %s >/tmp/mm.out 2>&1 & echo $! >/tmp/mm.pid; while ! grep -q before /tmp/mm.out; do sleep 0.01; done; cat /tmp/mm.out", prog, inside)); len(got) != 1 || got[0] != "before mapped bytes" {
		t.Fatalf("mapped read: %q", got)
	}
	if r := e.Run(t, "revoke", name, doc); r.Code != 0 {
		t.Fatalf("revoke: %v", r)
	}
	rewrite(t, p, "NEW host bytes\n")
	got := sh.run(t, "touch /tmp/go; wait $(cat /tmp/mm.pid); echo rc=$?; grep after /tmp/mm.out || true")
	if len(got) != 1 || got[0] != "rc=135" { // 128 + SIGBUS
		t.Fatalf("after revoke, the mapping: %q, want SIGBUS (rc=135) and nothing read", got)
	}
}

// TestRevokeCutsFolder: a folder grant, a shell whose working directory is
// a folder inside it, and a file of it held open on descriptor 4 (its pages
// cached by a first read). After the revocation nothing of it is reachable:
// not the working directory's entries, not the file by name, not the open
// descriptor (EIO: its cached pages are dropped) nor its reopen.
func TestRevokeCutsFolder(t *testing.T) {
	t.Parallel()
	e := harness.Get(t).SessionBus(t)
	name := fmt.Sprintf("revoke-dir-%d", time.Now().UnixNano())
	sh := startShell(t, e, name)
	dir := filepath.Join(e.UserDir(t), "project")
	os.MkdirAll(filepath.Join(dir, "sub"), 0o755)
	os.Chown(dir, e.UID, e.GID)
	os.Chown(filepath.Join(dir, "sub"), e.UID, e.GID)
	f := filepath.Join(dir, "sub", "notes.txt")
	e.WriteUserFile(t, f, "folder bytes\n", 0o644)
	doc, inside := grant(t, e, name, dir)
	if got := sh.run(t, "cd "+inside+"/sub && exec 4< notes.txt && cat notes.txt && ls"); len(got) != 2 || got[0] != "folder bytes" || got[1] != "notes.txt" {
		t.Fatalf("inside the folder: %q", got)
	}
	if r := e.Run(t, "revoke", name, doc); r.Code != 0 {
		t.Fatalf("revoke: %v", r)
	}
	rewrite(t, f, "NEW host bytes\n")
	for _, tc := range []struct{ what, script string }{
		{"listing the working directory", "ls ."},
		{"opening a file by name from it", "cat notes.txt"},
		{"the descriptor opened before", "cat <&4"},
		{"its reopen through /proc/self/fd/4", "cat /proc/self/fd/4"},
		{"a new open of the path", "cat " + inside + "/sub/notes.txt"},
	} {
		got := sh.run(t, tc.script+" 2>/dev/null; echo rc=$?")
		if len(got) != 1 || got[0] == "rc=0" {
			t.Errorf("after revoke, %s: %q", tc.what, got)
		}
	}
	sh.run(t, "exec 4<&-; cd /")
}
