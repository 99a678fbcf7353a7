package protocol

import (
	"strings"
	"testing"
)

// TestCleanState: what a sandbox or its launcher put in a state is shown as
// one line of plain text: bidirectional overrides and controls gone from
// names, every character of a path visible, bad ids and colours dropped.
func TestCleanState(t *testing.T) {
	st := ManagerState{Sandboxes: []ManagedSandbox{
		{ID: "ok-1", Name: "<b>evil</b>\u202Egnp.exe\n2", Profile: "p", Color: "#12ab34",
			Grants: []ManagedGrant{{Doc: "abcdefgh", HostPath: "/home/u/\u202Etxt.exe"}, {Doc: "../x", HostPath: "/etc"}}},
		{ID: "bad id", Name: "x"},
		{ID: "ok-2", Name: strings.Repeat("long", 100), Color: "red; background: url(x)"},
	}}
	CleanState(&st)
	if len(st.Sandboxes) != 2 {
		t.Fatalf("sandboxes %+v", st.Sandboxes)
	}
	a, b := st.Sandboxes[0], st.Sandboxes[1]
	if a.Name != "<b>evil</b>gnp.exe 2" || a.Color != "#12ab34" {
		t.Errorf("name %q colour %q", a.Name, a.Color)
	}
	if len(a.Grants) != 1 || a.Grants[0].HostPath != "/home/u/<U+202E>txt.exe" {
		t.Errorf("grants %+v", a.Grants)
	}
	if n := len([]rune(b.Name)); n != MaxSandboxName || b.Color != "" {
		t.Errorf("long name %d runes, colour %q", n, b.Color)
	}
}

func TestCheckAction(t *testing.T) {
	for _, tc := range []struct {
		a  ManagerAction
		ok bool
	}{
		{ManagerAction{Action: ActionRevoke, Sandbox: "s1", Doc: "abcdefgh"}, true},
		{ManagerAction{Action: ActionRevoke, Sandbox: "s1", Doc: "../x"}, false},
		{ManagerAction{Action: ActionGrant, Sandbox: "s1", Path: "/home/u/f"}, true},
		{ManagerAction{Action: ActionGrant, Sandbox: "s1", Path: "relative"}, false},
		{ManagerAction{Action: ActionEnd, Sandbox: "s1"}, true},
		{ManagerAction{Action: ActionEnd, Sandbox: ""}, false},
		{ManagerAction{Action: "kill", Sandbox: "s1"}, false},
	} {
		if err := CheckAction(&tc.a); (err == nil) != tc.ok {
			t.Errorf("%+v: %v", tc.a, err)
		}
	}
}
