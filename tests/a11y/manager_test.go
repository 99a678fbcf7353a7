package a11y_test

import (
	"context"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"airlock/chooser-ui/protocol"
	"airlock/tests/harness"
)

// TestManagerReadableByScreenReader: the grant manager (airlock manager,
// issue 13 item 3) is readable by a screen reader: its window, both lists
// by their accessible names, the buttons by their labels without
// mnemonics, and a running sandbox's name as the text of a cell, cleaned of
// the bidirectional override its --name carried. Revoke is pressed through
// the AT-SPI Action interface and the grant is gone from the broker. Once
// in English, once in German from the compiled catalog.
func TestManagerReadableByScreenReader(t *testing.T) {
	for _, w := range []managerWords{
		{"en", "Airlock: Sandboxes and Their Files", "Running sandboxes", "Files the selected sandbox can see",
			"Add File…", "Add Folder…", "End Sandbox…", "Revoke"},
		{"de", "Airlock: Sandboxen und ihre Dateien", "Laufende Sandboxen", "Dateien, die die gewählte Sandbox sehen kann",
			"Datei hinzufügen …", "Ordner hinzufügen …", "Sandbox beenden …", "Entziehen"},
	} {
		t.Run(w.lang, func(t *testing.T) {
			t.Parallel()
			managerReadable(t, w)
		})
	}
}

type managerWords struct {
	lang, title, sandboxes, grants, addFile, addFolder, end, revoke string
}

func managerReadable(t *testing.T, w managerWords) {
	e := harness.Get(t)
	need(t)
	if e.Chooser == "" {
		t.Fatal("airlock-chooser did not build (see the harness's message above)")
	}
	if err := os.Chmod("/dev/fuse", 0o666); err != nil && os.Geteuid() == 0 {
		t.Fatalf("chmod /dev/fuse: %v", err)
	}
	s := e.SessionBus(t)
	startA11yBus(t, s)
	x := e.StartXvfb(t)
	sr := newReader(t, s)
	env := s.WithEnv(append(x.Env(), "GIO_USE_VFS=local", "GIO_USE_VOLUME_MONITOR=unix")...)
	if w.lang != "en" {
		env = env.WithEnv("LANGUAGE="+w.lang, "AIRLOCK_LOCALEDIR="+localeDir(t, e, w.lang))
	}

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	name := "Reader \u202etest"
	sb := env.Airlock(ctx, "run", "--name", name, "--", "/bin/sleep", "300")
	if err := sb.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { syscall.Kill(-sb.Process.Pid, syscall.SIGTERM); sb.Wait() }()
	file := e.UserDir(t) + "/shown.txt"
	e.WriteUserFile(t, file, "x\n", 0o644)
	until(t, "the sandbox's grant", func() (bool, string) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		r := harness.RunCmd(env.Airlock(ctx, "grant", name, file))
		return r.Code == 0, r.String()
	})

	mgr := env.Airlock(ctx, "manager")
	mgr.Env = withBridge(mgr.Env)
	stderr := &harness.SyncBuffer{}
	mgr.Stdout, mgr.Stderr = stderr, stderr
	if err := mgr.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { syscall.Kill(-mgr.Process.Pid, syscall.SIGTERM); mgr.Wait() }()

	shown := protocol.Clean(name, protocol.MaxSandboxName)
	nodes := sr.find(t, "airlock-manager", "frame", w.title,
		"push button", w.addFile, "push button", w.addFolder, "push button", w.end, "push button", w.revoke)
	var lists, cells, paths int
	for _, n := range nodes {
		switch {
		case n.Name == w.sandboxes || n.Name == w.grants:
			lists++
		case strings.Contains(n.Role, "cell") && n.Name == shown:
			cells++
		case strings.Contains(n.Role, "cell") && n.Name == file:
			paths++
		}
		if strings.ContainsRune(n.Name, '\u202e') {
			t.Errorf("the screen reader got a bidirectional override: %v", n)
		}
	}
	if lists < 2 || cells != 1 || paths != 1 {
		var tree strings.Builder
		for _, n := range nodes {
			tree.WriteString(n.String() + "\n")
		}
		t.Fatalf("lists %d (want 2 named), sandbox name cells %d, path cells %d (want 1 each):\n%s\nmanager:\n%s", lists, cells, paths, tree.String(), stderr.String())
	}
	if r := sr.run(t, "press", "airlock-manager", "push button", w.revoke); r.Code != 0 {
		t.Fatalf("press Revoke: %v", r)
	}
	until(t, "the grant revoked", func() (bool, string) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		r := harness.RunCmd(env.Airlock(ctx, "grants", name))
		return r.Code == 0 && !strings.Contains(r.Stdout, file), r.String()
	})
}
