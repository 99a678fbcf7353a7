package docstore

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"airlock/portal/grant"
)

// asked collects the questions the store asks.
type asked chan *NewFile

// asker installs a handler that collects questions.
func (e *env) asker(t *testing.T) asked {
	t.Helper()
	ch := make(asked, 64)
	e.s.OnNewFile(func(n *NewFile) { ch <- n })
	return ch
}

func (a asked) next(t *testing.T) *NewFile {
	t.Helper()
	select {
	case n := <-a:
		return n
	case <-time.After(settleDelay + 10*time.Second):
		t.Fatal("the store asked nothing")
		return nil
	}
}

// none checks that nothing is asked within the settle delay and a margin.
func (a asked) none(t *testing.T) {
	t.Helper()
	select {
	case n := <-a:
		t.Fatalf("the store asked about %q (%d bytes)", n.Name, n.Size)
	case <-time.After(settleDelay + time.Second):
	}
}

// visible lists the host folder without the store's hidden files.
func visible(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	for _, n := range listNames(t, dir) {
		if !strings.HasPrefix(n, hiddenPrefix) {
			out = append(out, n)
		}
	}
	return out
}

// writableGrant grants e.host/report.odt writable to sandbox s1.
func (e *env) writableGrant(t *testing.T) (docdir string, g grant.Grant) {
	t.Helper()
	host := e.write(t, "report.odt", "version 1")
	view := e.sandbox(t, "s1")
	g = e.grant(t, "s1", host, true, false)
	return filepath.Join(view, g.DocID), g
}

// Save As to a new name beside the granted file: hidden on the host until
// the user answers; Keep puts it there under its name, and it stays usable
// inside, also for a later atomic save.
func TestSaveAsKept(t *testing.T) {
	e := setup(t)
	a := e.asker(t)
	docdir, g := e.writableGrant(t)
	p := filepath.Join(docdir, "report-v2.odt")
	if err := os.WriteFile(p, []byte("version 2"), 0o755); err != nil {
		t.Fatalf("Save As: %v", err)
	}
	if got := visible(t, e.host); !slices.Equal(got, []string{"report.odt"}) {
		t.Errorf("before the answer the host folder shows %v", got)
	}
	n := a.next(t)
	if n.Name != "report-v2.odt" || n.Beside != "report.odt" || n.Size != 9 || n.Folder != e.host || n.Sandbox != "s1" || n.DocID != g.DocID {
		t.Errorf("question %+v", n)
	}
	hp, err := n.Keep()
	if err != nil {
		t.Fatalf("Keep: %v", err)
	}
	if want := filepath.Join(e.host, "report-v2.odt"); hp != want {
		t.Errorf("kept at %q, want %q", hp, want)
	}
	if got := readString(t, hp); got != "version 2" {
		t.Errorf("kept file holds %q", got)
	}
	if st, err := os.Stat(hp); err != nil || st.Mode().Perm()&0o111 != 0 {
		t.Errorf("kept file mode %v (%v): want no execute bits", st.Mode(), err)
	}
	if h := hidden(t, e.host); len(h) != 0 {
		t.Errorf("hidden files left: %v", h)
	}
	if err := n.Discard(); err != ErrAnswered {
		t.Errorf("a second answer was taken: %v", err)
	}
	// Still there inside, and a later atomic save of it replaces it.
	if got := readString(t, p); got != "version 2" {
		t.Errorf("inside = %q", got)
	}
	tmp := filepath.Join(docdir, "report-v2.odt.XXXX12")
	if err := os.WriteFile(tmp, []byte("version 3"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, p); err != nil {
		t.Fatalf("save over the kept file: %v", err)
	}
	a.none(t)
	if got := readString(t, hp); got != "version 3" {
		t.Errorf("kept file after a new save = %q", got)
	}
	wantErrno(t, "remove kept file", os.Remove(p), syscall.EPERM)
	wantErrno(t, "rename kept file away", os.Rename(p, p+".bak"), syscall.EPERM)
	e.s.RemoveSandbox("s1")
	if got := visible(t, e.host); !slices.Equal(got, []string{"report-v2.odt", "report.odt"}) {
		t.Errorf("after the sandbox ended the host folder shows %v", got)
	}
	if got := readString(t, hp); got != "version 3" {
		t.Errorf("kept file after the sandbox ended = %q", got)
	}
}

// A dotfile is never planted: Keep makes the name visible.
func TestKeepDropsLeadingDots(t *testing.T) {
	e := setup(t)
	a := e.asker(t)
	docdir, _ := e.writableGrant(t)
	p := filepath.Join(docdir, "..xsessionrc")
	if err := os.WriteFile(p, []byte("xterm &"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, 0o755); err != nil { // allowed while hidden: GIO copies the target's mode
		t.Fatal(err)
	}
	n := a.next(t)
	if n.Name != "..xsessionrc" || n.HostName() != "xsessionrc" {
		t.Errorf("name %q, host name %q", n.Name, n.HostName())
	}
	hp, err := n.Keep()
	if err != nil || hp != filepath.Join(e.host, "xsessionrc") {
		t.Fatalf("Keep = %q, %v", hp, err)
	}
	if got := listNames(t, e.host); !slices.Equal(got, []string{"report.odt", "xsessionrc"}) {
		t.Errorf("host folder: %v", got)
	}
	if st, err := os.Stat(hp); err != nil || st.Mode().Perm()&0o111 != 0 {
		t.Errorf("kept file mode %v (%v): want no execute bits", st.Mode(), err)
	}
}

func TestSaveAsDiscarded(t *testing.T) {
	e := setup(t)
	a := e.asker(t)
	docdir, _ := e.writableGrant(t)
	p := filepath.Join(docdir, "draft.odt")
	if err := os.WriteFile(p, []byte("draft"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := a.next(t).Discard(); err != nil {
		t.Fatalf("Discard: %v", err)
	}
	if got := listNames(t, e.host); !slices.Equal(got, []string{"report.odt"}) {
		t.Errorf("host folder after Discard: %v", got)
	}
	_, err := os.Stat(p)
	wantErrno(t, "stat discarded file inside", err, syscall.ENOENT)
}

// A name taken on the host (not shown inside) is never replaced.
func TestKeepNeverReplaces(t *testing.T) {
	e := setup(t)
	a := e.asker(t)
	docdir, _ := e.writableGrant(t)
	e.write(t, "notes.txt", "the user's own notes")
	e.write(t, "notes (2).txt", "more of them")
	if err := os.WriteFile(filepath.Join(docdir, "notes.txt"), []byte("the app's"), 0o644); err != nil {
		t.Fatal(err)
	}
	hp, err := a.next(t).Keep()
	if err != nil {
		t.Fatalf("Keep: %v", err)
	}
	if want := filepath.Join(e.host, "notes (3).txt"); hp != want {
		t.Errorf("kept at %q, want %q", hp, want)
	}
	if readString(t, filepath.Join(e.host, "notes.txt")) != "the user's own notes" || readString(t, hp) != "the app's" {
		t.Error("a host file was replaced")
	}
}

// GIO's g_file_replace, QSaveFile (closes, then renames) and LibreOffice
// (lock file, temporary renamed over) ask nothing and leave nothing.
func TestSavePatternsAskNothing(t *testing.T) {
	e := setup(t)
	a := e.asker(t)
	docdir, g := e.writableGrant(t)
	p := filepath.Join(docdir, g.Name())

	// GIO: renamed while still open.
	tmp := filepath.Join(docdir, ".goutputstream-Q1W2E3")
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("gio")
	if err := os.Rename(tmp, p); err != nil {
		t.Fatal(err)
	}
	f.Close()

	// QSaveFile: closed, then renamed a moment later.
	qt := filepath.Join(docdir, "report.odt.aB3dEf")
	if err := os.WriteFile(qt, []byte("qt"), 0o644); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if err := os.Rename(qt, p); err != nil {
		t.Fatal(err)
	}

	// LibreOffice: lock file while the document is open, a temporary
	// renamed over, the lock removed at close.
	lock := filepath.Join(docdir, ".~lock.report.odt#")
	if err := os.WriteFile(lock, []byte("user,host,..."), 0o644); err != nil {
		t.Fatal(err)
	}
	lo := filepath.Join(docdir, "lu12345abc.tmp")
	if err := os.WriteFile(lo, []byte("libreoffice"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(lo, p); err != nil {
		t.Fatal(err)
	}
	a.none(t)
	if got := visible(t, e.host); !slices.Equal(got, []string{"report.odt"}) {
		t.Errorf("host folder shows %v", got)
	}
	if got := readString(t, filepath.Join(e.host, "report.odt")); got != "libreoffice" {
		t.Errorf("granted file = %q", got)
	}
	if err := os.Remove(lock); err != nil {
		t.Fatalf("remove lock file: %v", err)
	}
	// Lock files the app leaves behind (it crashed) are not asked about
	// and do not outlive the grant.
	for _, l := range []string{".~lock.report.odt#", ".#report.odt", "~$report.odt", ".report.odt.swp"} {
		if err := os.WriteFile(filepath.Join(docdir, l), []byte("lock"), 0o644); err != nil {
			t.Fatalf("create %s: %v", l, err)
		}
	}
	a.none(t)
	e.s.RemoveSandbox("s1")
	select {
	case n := <-a:
		t.Errorf("asked about %q at the end", n.Name)
	case <-time.After(500 * time.Millisecond):
	}
	if got := listNames(t, e.host); !slices.Equal(got, []string{"report.odt"}) {
		t.Errorf("host folder after the end: %v", got)
	}
}

// A new file still open when the sandbox ends is asked about then.
func TestAskedAtSandboxEnd(t *testing.T) {
	e := setup(t)
	a := e.asker(t)
	docdir, _ := e.writableGrant(t)
	f, err := os.Create(filepath.Join(docdir, "open.txt"))
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("unsaved? no, written")
	f.Sync()
	e.s.RemoveSandbox("s1")
	f.Close()
	n := a.next(t)
	if n.Name != "open.txt" {
		t.Errorf("asked about %q", n.Name)
	}
	hp, err := n.Keep()
	if err != nil {
		t.Fatalf("Keep after the end: %v", err)
	}
	if got := readString(t, hp); got != "unsaved? no, written" {
		t.Errorf("kept %q", got)
	}
}

// With no one to ask (no handler, or the store closing) a new file is kept,
// visible (no leading dot), never deleted.
func TestKeptUnaskedWithoutDialog(t *testing.T) {
	e := setup(t)
	docdir, _ := e.writableGrant(t)
	if err := os.WriteFile(filepath.Join(docdir, ".profile"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	e.s.RemoveSandbox("s1")
	if got := listNames(t, e.host); !slices.Equal(got, []string{"profile", "report.odt"}) {
		t.Errorf("host folder: %v, want profile kept without its dot", got)
	}

	// Closing the store with a question still out keeps the file.
	a := e.asker(t)
	e.sandbox(t, "s2")
	g := e.grant(t, "s2", filepath.Join(e.host, "report.odt"), true, false)
	if err := os.WriteFile(filepath.Join(e.s.MountPoint(), "by-sandbox", "s2", g.DocID, "late.txt"), []byte("late"), 0o644); err != nil {
		t.Fatal(err)
	}
	n := a.next(t)
	if err := e.s.Close(); err != nil {
		t.Fatal(err)
	}
	if got := readString(t, filepath.Join(e.host, "late.txt")); got != "late" {
		t.Errorf("late.txt = %q", got)
	}
	if n.Discard() != ErrAnswered {
		t.Error("an answer after Close was taken")
	}
}

// Names that must not reach the host or the dialog, and the cap on
// unresolved files.
func TestNewFileLimits(t *testing.T) {
	e := setup(t)
	a := e.asker(t)
	docdir, _ := e.writableGrant(t)
	for _, bad := range []string{"a\x01b", "tab\there", "esc\x1b[31m", "c1\u0085", hiddenPrefix + "x", "bad\xffutf8"} {
		_, err := os.Create(filepath.Join(docdir, bad))
		wantErrno(t, "create "+bad, err, syscall.EINVAL)
	}
	if err := os.WriteFile(filepath.Join(docdir, "ok"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	wantErrno(t, "rename to a control name", os.Rename(filepath.Join(docdir, "ok"), filepath.Join(docdir, "x\ny")), syscall.EINVAL)
	var files []*os.File
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	for i := 1; i < maxTemps; i++ { // "ok" is the first
		f, err := os.Create(filepath.Join(docdir, "n"+itoa(i)))
		if err != nil {
			t.Fatalf("create %d: %v", i, err)
		}
		files = append(files, f)
	}
	_, err := os.Create(filepath.Join(docdir, "one-too-many"))
	wantErrno(t, "create past the cap", err, syscall.EDQUOT)
	// Answering frees room.
	a.next(t).Discard()
	f, err := os.Create(filepath.Join(docdir, "after-answer"))
	if err != nil {
		t.Fatalf("create after an answer: %v", err)
	}
	files = append(files, f)
}

func TestVariant(t *testing.T) {
	for _, tc := range []struct {
		name string
		i    int
		want string
	}{
		{"report.odt", 1, "report.odt"},
		{"report.odt", 2, "report (2).odt"},
		{".bashrc", 3, ".bashrc (3)"},
		{"archive.tar.gz", 2, "archive.tar (2).gz"},
		{"noext", 12, "noext (12)"},
		{strings.Repeat("é", 127) + ".txt", 2, strings.Repeat("é", 123) + " (2).txt"},
	} {
		got := variant(tc.name, tc.i)
		if got != tc.want || len(got) > 255 {
			t.Errorf("variant(%q, %d) = %q, want %q", tc.name, tc.i, got, tc.want)
		}
	}
	for _, tc := range []struct {
		name string
		lock bool
	}{
		{".~lock.report.odt#", true}, {".#notes.org", true}, {"~$report.docx", true},
		{".notes.txt.swp", true}, {".notes.txt.swx", true},
		{"report.odt", false}, {".goutputstream-ABC", false}, {"notes.swp", false}, {".~lock.x", false},
	} {
		if got := lockName(tc.name); got != tc.lock {
			t.Errorf("lockName(%q) = %v", tc.name, got)
		}
	}
}

// A slow save that renames over the granted file after the question went
// out withdraws the question; so does removing the file.
func TestQuestionWithdrawn(t *testing.T) {
	e := setup(t)
	a := e.asker(t)
	docdir, g := e.writableGrant(t)
	tmp := filepath.Join(docdir, "slow-save.tmp")
	if err := os.WriteFile(tmp, []byte("version 2"), 0o644); err != nil {
		t.Fatal(err)
	}
	n := a.next(t)
	select {
	case <-n.Moot():
		t.Fatal("moot before the app did anything")
	default:
	}
	if err := os.Rename(tmp, filepath.Join(docdir, g.Name())); err != nil {
		t.Fatalf("rename over the granted file: %v", err)
	}
	select {
	case <-n.Moot():
	case <-time.After(5 * time.Second):
		t.Fatal("the question was not withdrawn")
	}
	if _, err := n.Keep(); err != ErrGone {
		t.Errorf("Keep after the rename: %v, want ErrGone", err)
	}
	if got := readString(t, filepath.Join(e.host, "report.odt")); got != "version 2" {
		t.Errorf("granted file = %q", got)
	}

	gone := filepath.Join(docdir, "gone.txt")
	if err := os.WriteFile(gone, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	n = a.next(t)
	if err := os.Remove(gone); err != nil {
		t.Fatal(err)
	}
	<-n.Moot()
	if err := n.Discard(); err != ErrGone {
		t.Errorf("Discard after the app removed it: %v, want ErrGone", err)
	}
	if got := visible(t, e.host); !slices.Equal(got, []string{"report.odt"}) {
		t.Errorf("host folder: %v", got)
	}
}
