package sandbox

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"airlock/launcher/profile"
)

func TestModeJSON(t *testing.T) {
	for _, m := range []Mode{0o1777, 0o755, 0o700, 0} {
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		var back Mode
		if err := json.Unmarshal(b, &back); err != nil || back != m {
			t.Errorf("%v: %s read back as %v, %v", m, b, back, err)
		}
	}
	var m Mode
	for _, bad := range []string{`"0999"`, `"17777"`, `493`} {
		if err := json.Unmarshal([]byte(bad), &m); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

func TestOpString(t *testing.T) {
	for _, c := range []struct {
		op   Op
		want string
	}{
		{Op{Kind: OpTmpfs, Dst: "/dev", Mode: 0o755, NoExec: true}, "tmpfs /dev mode=0755 noexec"},
		{Op{Kind: OpBind, Src: "/a", Dst: "/b", Try: true}, "bind-try /a /b"},
		{Op{Kind: OpROBind, Src: "/a", Dst: "/b", Try: true, Exact: true}, "ro-bind-try /a /b exact"},
		{Op{Kind: OpFile, Dst: "/etc/hostname", Mode: 0o644, Data: "h\n"}, `file /etc/hostname mode=0644 "h\n"`},
		{Op{Kind: OpProc, Dst: "/proc"}, "proc /proc hidepid=invisible"},
	} {
		if got := c.op.String(); got != c.want {
			t.Errorf("got %q, want %q", got, c.want)
		}
	}
}

// Without a broker, documents are bound on their own: read-only unless
// --rw, the only writable bind of a host path.
func TestPlanWithoutBroker(t *testing.T) {
	t.Setenv("HOME", "/home/airlock-plan-test")
	dir := t.TempDir()
	ro, rw := filepath.Join(dir, "ro.txt"), filepath.Join(dir, "rw.txt")
	for _, f := range []string{ro, rw} {
		if err := os.WriteFile(f, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	p := profile.Defaults()
	sb, err := Prepare(Options{Profile: &p, Docs: []Doc{{Path: ro}, {Path: rw, RW: true}}, Args: []string{"/bin/cat", ro, rw}, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	plan := sb.Plan()
	if plan.BusSocket || plan.NativeGrants || plan.Handshake {
		t.Errorf("bus %v native %v handshake %v without a broker", plan.BusSocket, plan.NativeGrants, plan.Handshake)
	}
	var writable []string
	for _, o := range plan.Ops {
		if o.Writable() && !strings.HasPrefix(o.Dst, "/dev/") {
			writable = append(writable, o.Src)
		}
		if o.Src == ro && (o.Kind != OpROBind || o.Dst != plan.Args[1]) {
			t.Errorf("%v: want a read-only bind at %s", o, plan.Args[1])
		}
	}
	if len(writable) != 1 || writable[0] != rw {
		t.Errorf("writable binds %q, want %s only", writable, rw)
	}
	if _, err := sb.Run(); err == nil {
		t.Error("a dry run ran")
	}
}

// TestPlanGtkDialog: the file-dialog library is bound read-only into /run
// before /run turns read-only, and preloaded; bookmarked persistent folders
// are listed in a read-only bookmarks file; "app" preloads nothing.
func TestPlanGtkDialog(t *testing.T) {
	t.Setenv("HOME", "/home/airlock-plan-test")
	ident := rootIdentity{acct: Account{Name: "u", UID: 1000, GID: 1000, Home: "/home/u"}, hostname: "h", machineID: "0", bootID: "0", gtkDialog: "/opt/airlock/" + GtkDialogLib}
	ops := systemOps(ident)
	bound, readOnly := -1, -1
	for i, o := range ops {
		if o.Kind == OpROBind && o.Src == ident.gtkDialog && o.Dst == gtkDialogDir+"/"+GtkDialogLib {
			bound = i
		}
		if o.Kind == OpRemountRO && o.Dst == "/run" {
			readOnly = i
		}
	}
	if bound < 0 || readOnly < bound {
		t.Errorf("library bound at op %d, /run read-only at op %d: want bound first\n%v", bound, readOnly, ops)
	}
	if got := gtkBookmarks([]string{"/home/u/Persistent", "/home/u/My Files"}); got != "file:///home/u/Persistent Persistent\nfile:///home/u/My%20Files My Files\n" {
		t.Errorf("bookmarks %q", got)
	}

	lib := filepath.Join(t.TempDir(), GtkDialogLib)
	if err := os.WriteFile(lib, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AIRLOCK_LIBDIR", filepath.Dir(lib))
	if got := FindGtkDialogLib(); got != lib {
		t.Errorf("FindGtkDialogLib() = %q, want %q", got, lib)
	}
	for _, mode := range []string{profile.FileDialogAirlock, profile.FileDialogApp} {
		p := profile.Defaults()
		p.FileDialog = mode
		p.Persist = []profile.Persist{{Host: t.TempDir(), Sandbox: "~/Persistent", Bookmark: true}}
		sb, err := Prepare(Options{Profile: &p, Args: []string{"/bin/true"}, DryRun: true})
		if err != nil {
			t.Fatal(err)
		}
		plan := sb.Plan()
		// Without a broker there is no portal: nothing to route to.
		if slices.ContainsFunc(plan.Env, func(e string) bool { return strings.HasPrefix(e, "LD_PRELOAD=") }) {
			t.Errorf("%s: LD_PRELOAD without a portal: %v", mode, plan.Env)
		}
		if !slices.ContainsFunc(plan.Ops, func(o Op) bool {
			return o.Kind == OpROBindData && strings.HasSuffix(o.Dst, "/.config/gtk-3.0/bookmarks") && strings.Contains(o.Data, "/Persistent Persistent\n")
		}) {
			t.Errorf("%s: no bookmarks file for the persistent folder", mode)
		}
	}
}

func TestCheckDst(t *testing.T) {
	for _, p := range []string{"relative", "/a/../../oldroot", "/a/", "/a//b", ""} {
		if checkDst(p) == nil {
			t.Errorf("%q accepted", p)
		}
	}
	for _, p := range []string{"/", "/run/user/1000/doc"} {
		if err := checkDst(p); err != nil {
			t.Errorf("%q: %v", p, err)
		}
	}
}
