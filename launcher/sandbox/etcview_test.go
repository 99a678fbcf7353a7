package sandbox

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestEtcView(t *testing.T) {
	rt := t.TempDir()
	t.Setenv("XDG_RUNTIME_DIR", rt)
	a := Account{UID: os.Getuid(), GID: os.Getgid(), Name: "someone", Home: "/home/someone"}
	t.Cleanup(func() { removeTree(filepath.Join(rt, "airlock")) })
	v1, err := currentEtcView(a)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := currentEtcView(a); err != nil || v != v1 {
		t.Fatalf("second call: %q %v, want the same view %q", v, err, v1)
	}
	// Copies of the allowed entries, nothing else of the host's.
	if host, err := os.ReadFile("/etc/ld.so.cache"); err == nil {
		if got, err := os.ReadFile(filepath.Join(v1, "ld.so.cache")); err != nil || !bytes.Equal(got, host) {
			t.Errorf("ld.so.cache: %v, want the host's copy", err)
		}
	}
	for _, n := range []string{"shadow", "ssh", "sudoers", "machine-id-host"} {
		if _, err := os.Lstat(filepath.Join(v1, n)); err == nil {
			t.Errorf("%s is in the view", n)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(v1, "passwd")); !strings.HasPrefix(string(b), "someone:x:") || strings.Count(string(b), "\n") != 2 {
		t.Errorf("passwd: %q, want the user and nobody", b)
	}
	for _, l := range etcLinks {
		if got, _ := os.Readlink(filepath.Join(v1, l)); got != "/run/airlock/etc/"+l {
			t.Errorf("%s links to %q", l, got)
		}
	}
	if st, err := os.Stat(v1); err != nil || st.Mode().Perm()&0o222 != 0 {
		t.Errorf("view %v %v, want a read-only folder", st, err)
	}
	// A host path whose stamp no longer matches builds a new view; the
	// old one stays while it may be in use.
	cur := filepath.Join(rt, "airlock", "etc", "current")
	b, err := os.ReadFile(cur)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	path, _, _ := strings.Cut(lines[1], "\t")
	lines[1] = path + "\tstale"
	if err := os.WriteFile(cur, []byte(strings.Join(lines, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, ok := validEtcView(filepath.Dir(cur), a); ok {
		t.Fatal("a stale stamp passed")
	}
	if v, err := currentEtcView(a); err != nil || v != v1 {
		// The host did not really change: the same content, the same name.
		t.Errorf("rebuilt view %q %v, want %q again", v, err, v1)
	}
	// Another account is another view.
	b2 := a
	b2.Home = "/home/other"
	if v, err := currentEtcView(b2); err != nil || v == v1 {
		t.Errorf("view for another home: %q %v, want a new one", v, err)
	}
	if _, err := os.Stat(v1); err != nil {
		t.Errorf("the replaced view went at once: %v", err)
	}
	// A view others may write is not used.
	os.Chmod(filepath.Dir(cur), 0o777)
	if _, err := currentEtcView(a); err == nil {
		t.Error("a world-writable view folder was used")
	}
	os.Chmod(filepath.Dir(cur), 0o700)
}

// BenchmarkEtcViewCheck is what every launch pays for the view: reading
// its stamps and comparing them with the host's (go test -bench EtcView).
func BenchmarkEtcViewCheck(b *testing.B) {
	rt := b.TempDir()
	b.Setenv("XDG_RUNTIME_DIR", rt)
	a := Account{UID: os.Getuid(), GID: os.Getgid(), Name: "someone", Home: "/home/someone"}
	b.Cleanup(func() { removeTree(filepath.Join(rt, "airlock")) })
	if _, err := currentEtcView(a); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := currentEtcView(a); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEtcViewBuild is what a launch pays once /etc changed.
func BenchmarkEtcViewBuild(b *testing.B) {
	rt := b.TempDir()
	b.Setenv("XDG_RUNTIME_DIR", rt)
	b.Cleanup(func() { removeTree(filepath.Join(rt, "airlock")) })
	root, err := etcViewRoot()
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < b.N; i++ {
		a := Account{UID: os.Getuid(), GID: os.Getgid(), Name: "someone", Home: "/home/" + strconv.Itoa(i)}
		if _, err := buildEtcView(root, a); err != nil {
			b.Fatal(err)
		}
	}
}
