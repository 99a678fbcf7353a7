package filechooser_test

import (
	"path/filepath"
	"strings"
	"testing"

	"airlock/tests/harness"
)

// The sandboxes in these tests read one line (a path inside) on stdin, use
// it, then wait for a second line before they look again: the test acts on
// the host in between.

// TestRevokeIsImmediate: after `airlock revoke ID DOC` (ID and DOC read
// from `airlock grants`), the granted path is gone inside the sandbox that
// is still running, at its very next look; the host file is untouched.
func TestRevokeIsImmediate(t *testing.T) {
	t.Parallel()
	s := newSession(t, false)
	content := randomText("revoke")
	dir := hostFiles(t, map[string]string{"held.txt": content})
	host := filepath.Join(dir, "held.txt")
	a := s.sandbox(t, []string{"--name", "revoker"}, "/bin/sh", "-c",
		`read p; echo "== before"; cat "$p"; echo "== wait"; read x; echo "== after"; cat "$p" 2>&1; echo "rc=$?"; ls "$p" 2>&1; echo "rc=$?"`)
	a.waitRegistered(t, s, "revoker")

	r := s.airlock(t, "grant", "revoker", host)
	if r.Code != 0 {
		t.Fatalf("airlock grant: %v\nportal log:\n%s", r, s.portalLog())
	}
	f := strings.Fields(r.Stdout)
	if len(f) != 2 || !insideDoc(harness.Get(t).UID, "held.txt").MatchString(f[1]) {
		t.Fatalf("airlock grant printed %q, want DOC and /run/user/UID/doc/DOC/held.txt", r.Stdout)
	}
	inside := f[1]
	a.Send(t, inside)
	a.WaitOutput(t, `^== wait$`)
	if got := section(a.Out.String(), "before", "wait"); got != content {
		t.Fatalf("before the revocation the sandbox reads %q, want %q", got, content)
	}

	var id, doc string
	for _, g := range s.grants(t, "") {
		if g.Host == host {
			id, doc = g.Sandbox, g.Doc
			if g.Inside != inside || g.Mode != "ro" {
				t.Errorf("airlock grants shows %+v, want %s read-only", g, inside)
			}
		}
	}
	if id == "" {
		t.Fatalf("airlock grants does not list %s", host)
	}
	if r := s.airlock(t, "revoke", id, doc); r.Code != 0 {
		t.Fatalf("airlock revoke %s %s: %v\nportal log:\n%s", id, doc, r, s.portalLog())
	}
	if g := s.grants(t, id); len(g) != 0 {
		t.Errorf("grants after the revocation: %v", g)
	}
	a.Send(t, "go")
	res := a.Wait(t)
	after := section(res.Stdout, "after", "")
	if strings.Contains(after, content) || strings.Count(after, "No such file or directory") != 2 || strings.Contains(after, "rc=0") {
		t.Errorf("after the revocation the running sandbox still reaches %s:\n%s", inside, after)
	}
	if got := readFile(t, host); got != content {
		t.Errorf("the revocation changed the host file: %q", got)
	}
}

// TestOtherSandboxCannotSeeGrant: a file granted to one sandbox is not in
// the document folder of a second sandbox running at the same time, and
// the first one's inside path does not open there.
func TestOtherSandboxCannotSeeGrant(t *testing.T) {
	t.Parallel()
	s := newSession(t, false)
	content := randomText("private to first")
	dir := hostFiles(t, map[string]string{"mine.txt": content})
	host := filepath.Join(dir, "mine.txt")
	const script = `read p; echo "== docs"; ls -A "/run/user/$(id -u)/doc"; echo "== read"; cat "$p" 2>&1; echo "rc=$?"; echo "== parent"; ls -A "$(dirname "$p")" 2>&1; echo "rc=$?"`
	first := s.sandbox(t, []string{"--name", "first"}, "/bin/sh", "-c", script)
	second := s.sandbox(t, []string{"--name", "second"}, "/bin/sh", "-c", script)
	first.waitRegistered(t, s, "first")
	second.waitRegistered(t, s, "second")

	r := s.airlock(t, "grant", "first", host)
	f := strings.Fields(r.Stdout)
	if r.Code != 0 || len(f) != 2 {
		t.Fatalf("airlock grant: %v\nportal log:\n%s", r, s.portalLog())
	}
	doc, inside := f[0], f[1]
	if g := s.grants(t, "second"); len(g) != 0 {
		t.Errorf("the second sandbox has grants %v", g)
	}
	first.Send(t, inside)
	second.Send(t, inside)
	one, two := first.Wait(t), second.Wait(t)

	// The first sandbox holds it (so the second's failure means something).
	if got := section(one.Stdout, "read", "parent"); got != content+"rc=0\n" {
		t.Fatalf("the sandbox it was granted to reads %q, want %q", got, content)
	}
	if docs := section(one.Stdout, "docs", "read"); docs != doc+"\n" {
		t.Errorf("the first sandbox's document folder holds %q, want %q", docs, doc)
	}
	if docs := section(two.Stdout, "docs", "read"); strings.Contains(docs, doc) {
		t.Errorf("the second sandbox's document folder shows the first one's document %s:\n%s", doc, docs)
	}
	if got := section(two.Stdout, "read", "parent"); strings.Contains(got, content) || !strings.Contains(got, "No such file or directory") || strings.Contains(got, "rc=0") {
		t.Errorf("the second sandbox opening %s: %q, want ENOENT", inside, got)
	}
	if got := section(two.Stdout, "parent", ""); strings.Contains(got, "mine.txt") || strings.Contains(got, "rc=0") {
		t.Errorf("the second sandbox lists the first one's document folder: %q", got)
	}
}

// waitRegistered waits until the broker knows the sandbox by name (the
// launcher registers it before the application starts).
func (a *app) waitRegistered(t *testing.T, s *session, name string) {
	t.Helper()
	waitFor(t, a, func() bool {
		return s.airlock(t, "grants", name).Code == 0
	}, "sandbox "+name+" registered")
}

// section is the text between "== from" and "== to" (to "" for the end).
func section(out, from, to string) string {
	_, rest, ok := strings.Cut(out, "== "+from+"\n")
	if !ok {
		return ""
	}
	if to != "" {
		rest, _, _ = strings.Cut(rest, "== "+to+"\n")
	}
	return rest
}
