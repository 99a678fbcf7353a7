package filechooser_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"airlock/tests/harness"
)

// TestGTK4OpenManyFolderSaveNew runs a GTK 4.8 application whose
// Gtk.FileChooserNative dialogs go to the portal, in one sandbox:
//   - it opens three files at once (select-multiple; the user goes to the
//     folder and selects everything with Ctrl+A) and reads the host bytes
//     of each;
//   - it is given a folder and sees the subtree under it, and above it only
//     its own document folder, not the host folder that holds it;
//   - it saves a file under a name that does not exist on the host yet, and
//     the host file then holds the bytes written.
func TestGTK4OpenManyFolderSaveNew(t *testing.T) {
	t.Parallel()
	s := newSession(t, true)
	e := harness.Get(t)
	base := e.UserDir(t)
	many := filepath.Join(base, "many")
	picked := filepath.Join(base, "picked")
	out := filepath.Join(base, "out")
	for _, d := range []string{many, picked, filepath.Join(picked, "sub"), out} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		os.Chown(d, e.UID, e.GID)
	}
	want := map[string]string{}
	for _, n := range []string{"a.txt", "b.txt", "c.txt"} {
		want[n] = randomText(n)
		e.WriteUserFile(t, filepath.Join(many, n), want[n], 0o644)
	}
	e.WriteUserFile(t, filepath.Join(base, "secret-beside.txt"), "not granted\n", 0o600)
	e.WriteUserFile(t, filepath.Join(picked, "one.txt"), "one\n", 0o644)
	e.WriteUserFile(t, filepath.Join(picked, "sub", "two.txt"), "two\n", 0o644)
	saved := randomText("saved by gtk4")
	py := userScript(t, "tests/filechooser/testdata/gtk4_files.py")
	s.lastFolder(t, "default", many)
	a := s.sandbox(t, []string{"--display", "xephyr", "--name", "gtk4files", "--ro", py},
		"/usr/bin/python3", py, "open-multiple", "folder", "save:suggested.txt:"+saved)

	// Several files: the chooser opens in their folder (the one the user
	// chose from last), with the keyboard on its file list: select all of
	// it once it has loaded, and open.
	s.dialog(t, a, "gtk4files wants to open files")
	s.selectAll(t, 3)
	s.key(t, "Return")
	r := waitStep(t, a, "open-multiple")
	var got struct {
		Files []struct{ Path, Content string }
	}
	remarshal(t, r, &got)
	if len(got.Files) != 3 {
		t.Fatalf("open-multiple gave %d files, want 3: %v", len(got.Files), r)
	}
	uid := e.UID
	for _, f := range got.Files {
		name := filepath.Base(f.Path)
		if !insideDoc(uid, name).MatchString(f.Path) {
			t.Errorf("opened %q, want /run/user/%d/doc/<id>/%s", f.Path, uid, name)
		}
		if f.Content != want[name] {
			t.Errorf("%s reads %q inside, want the host's %q", f.Path, f.Content, want[name])
		}
	}

	// A folder: its subtree, nothing above it.
	s.dialog(t, a, "gtk4files wants to choose a folder")
	// GTK's inline completion adds a selected "/" after a folder name;
	// "…/picked/" and Return would go into the folder and answer with its
	// first subfolder (GTK 3.24's own behaviour), so the "/" is deleted
	// first, as a person who sees it does.
	s.key(t, "ctrl+l")
	s.enterPath(t, picked, "/")
	r = waitStep(t, a, "folder")
	var folder struct {
		Path         string
		ParentReal   string `json:"parent_real"`
		Tree, Parent []string
	}
	remarshal(t, r, &folder)
	if !insideDoc(uid, "picked").MatchString(folder.Path) {
		t.Errorf("folder %q, want /run/user/%d/doc/<id>/picked", folder.Path, uid)
	}
	if w := []string{"one.txt", "sub", "sub/two.txt"}; !reflect.DeepEqual(folder.Tree, w) {
		t.Errorf("the granted folder holds %v inside, want %v", folder.Tree, w)
	}
	if !reflect.DeepEqual(folder.Parent, []string{"picked"}) || folder.ParentReal != filepath.Dir(folder.Path) {
		t.Errorf("above the granted folder the sandbox sees %v (%s), want only [picked] in %s; the host parent holds %v",
			folder.Parent, folder.ParentReal, filepath.Dir(folder.Path), listDir(t, base))
	}

	// A new file.
	s.dialog(t, a, "gtk4files wants to save a file")
	newPath := filepath.Join(out, "brand-new.txt")
	s.enterPath(t, newPath, "")
	r = waitStep(t, a, "save")
	if r["saved"] != true || !insideDoc(uid, "brand-new.txt").MatchString(r["path"].(string)) {
		t.Fatalf("save: %v, want saved at /run/user/%d/doc/<id>/brand-new.txt", r, uid)
	}
	if got := readFile(t, newPath); got != saved {
		t.Errorf("new host file holds %q, want %q", got, saved)
	}
	if l := listDir(t, out); !reflect.DeepEqual(l, []string{"brand-new.txt"}) {
		t.Errorf("host folder holds %v after the save, want only brand-new.txt", l)
	}
	if res := a.Wait(t); res.Code != 0 || strings.Contains(res.Stdout, "TIMEOUT") {
		t.Errorf("application: %v", res)
	}
}

// waitStep waits for the JSON line that ends step (not the "shown" one).
func waitStep(t *testing.T, a *app, step string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(120 * time.Second)
	for {
		for _, l := range strings.Split(a.Out.String(), "\n") {
			var m map[string]any
			if json.Unmarshal([]byte(l), &m) != nil || m["step"] != step || m["shown"] != nil {
				continue
			}
			if m["error"] != nil || m["response"] != nil {
				t.Fatalf("step %s failed: %s\nportal log:\n%s", step, l, a.s.portalLog())
			}
			return m
		}
		if a.Exited() || strings.Contains(a.Out.String(), "TIMEOUT") || time.Now().After(deadline) {
			t.Fatalf("no result for step %s\nstdout:\n%s\nstderr:\n%s\nportal log:\n%s", step, a.Out.String(), a.ErrOut.String(), a.s.portalLog())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func remarshal(t *testing.T, m map[string]any, v any) {
	t.Helper()
	b, _ := json.Marshal(m)
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}
