package grants

import (
	"os"
	"path/filepath"
	"testing"
)

// TestByFD: a descriptor opened through the sandbox's view names its
// grant; the host file itself, a file of another sandbox's grant and a
// temporary beside the grant name nothing.
func TestByFD(t *testing.T) {
	e := setup(t)
	view := e.sandbox(t, Sandbox{ID: "a"})
	other := e.sandbox(t, Sandbox{ID: "b"})
	p := e.write(t, "doc.txt", "x")
	g := e.grant(t, "a", p, Open, true)
	gb := e.grant(t, "b", e.write(t, "b.txt", "y"), Open, true)

	open := func(path string) *os.File {
		t.Helper()
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	if got, ok := e.r.ByFD("a", int(open(seen(view, g)).Fd())); !ok || got.DocID != g.DocID {
		t.Errorf("the granted file through the view: %+v %v", got, ok)
	}
	if _, ok := e.r.ByFD("a", int(open(p).Fd())); ok {
		t.Error("the host file itself (no native bind) matched a grant")
	}
	if _, ok := e.r.ByFD("a", int(open(seen(other, gb)).Fd())); ok {
		t.Error("another sandbox's grant matched")
	}
	tmp := filepath.Join(view, g.DocID, ".doc.txt.tmp")
	if err := os.WriteFile(tmp, []byte("t"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.r.ByFD("a", int(open(tmp).Fd())); ok {
		t.Error("a temporary beside the grant matched")
	}
}
