package protocol

import (
	"fmt"
	"strings"
)

// The grant manager (`airlock manager`) is airlock-chooser started with
// ManagerFlag: a window that stays open, not one dialog. The launcher
// (airlock manager), which talks to the broker, writes one ManagerState per
// line on its stdin whenever the broker signals a change; the manager
// writes one ManagerAction per line on its stdout when the user acts. It
// exits when its window is closed or its stdin ends.
const ManagerFlag = "--manager"

// Actions of the manager.
const (
	ActionGrant  = "grant"  // Path (chosen in Airlock's chooser), Writable
	ActionRevoke = "revoke" // Doc
	ActionEnd    = "end"    // the sandbox (the user confirmed)
)

// Caps of a manager state: a broker listing more is cut, not refused.
const (
	MaxManagedSandboxes = 256
	MaxManagedGrants    = 1024 // per sandbox
	MaxHostPath         = 4096 // bytes, as PATH_MAX
)

// ManagerState is everything the manager shows. The names, profiles and
// paths came from sandboxes and their launchers through the broker: they
// are hostile, shown only as plain text, cleaned (Clean) and capped.
type ManagerState struct {
	Sandboxes []ManagedSandbox `json:"sandboxes"`
	// Error is the launcher's own words about an action that failed
	// ("" for none): shown in the window's status line.
	Error string `json:"error,omitempty"`
}

// ManagedSandbox is one running sandbox.
type ManagedSandbox struct {
	ID      string         `json:"id"`
	Name    string         `json:"name"`
	Profile string         `json:"profile"`
	Network string         `json:"network"`
	Display string         `json:"display"`
	Color   string         `json:"color"`   // "#rrggbb" or ""
	Started int64          `json:"started"` // unix seconds
	Grants  []ManagedGrant `json:"grants"`
}

// ManagedGrant is one grant of a sandbox.
type ManagedGrant struct {
	Doc      string `json:"doc"`
	HostPath string `json:"host_path"`
	Writable bool   `json:"writable"`
	Dir      bool   `json:"dir"`
	// Native: revoking cannot cut descriptors opened before (profile
	// grants = "native-irrevocable").
	Native bool  `json:"native"`
	Since  int64 `json:"since"` // unix seconds, 0 when unknown
}

// ManagerAction is what the user asked for in the manager.
type ManagerAction struct {
	Action   string `json:"action"`
	Sandbox  string `json:"sandbox"`
	Doc      string `json:"doc,omitempty"`
	Path     string `json:"path,omitempty"`
	Writable bool   `json:"writable,omitempty"`
}

// ValidColor reports whether s is "#rrggbb": only such a string ever
// reaches a style sheet.
func ValidColor(s string) bool {
	if len(s) != 7 || s[0] != '#' {
		return false
	}
	for _, c := range s[1:] {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// validToken: a sandbox or document id, as the broker makes them.
func validToken(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	return strings.IndexFunc(s, func(r rune) bool {
		return !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '-' || r == '_')
	}) < 0
}

// CleanState makes a state safe to show: entries with bad ids are dropped,
// lists cut at the caps, names cleaned for one line of text (Clean), host
// paths shown with every character visible (VisibleName) and not cut: the
// view ellipsizes them in the middle, keeping the file name. A colour that
// is not #rrggbb is dropped.
func CleanState(st *ManagerState) {
	if len(st.Sandboxes) > MaxManagedSandboxes {
		st.Sandboxes = st.Sandboxes[:MaxManagedSandboxes]
	}
	out := st.Sandboxes[:0]
	for _, sb := range st.Sandboxes {
		if !validToken(sb.ID) {
			continue
		}
		sb.Name = Clean(sb.Name, MaxSandboxName)
		sb.Profile = Clean(sb.Profile, MaxSandboxName)
		sb.Network = Clean(sb.Network, 16)
		sb.Display = Clean(sb.Display, 16)
		if !ValidColor(sb.Color) {
			sb.Color = ""
		}
		if len(sb.Grants) > MaxManagedGrants {
			sb.Grants = sb.Grants[:MaxManagedGrants]
		}
		gs := sb.Grants[:0]
		for _, g := range sb.Grants {
			if !validToken(g.Doc) || len(g.HostPath) > MaxHostPath {
				continue
			}
			// Every character visible, none dropped: a name a sandbox
			// made in a writable folder cannot pass for another.
			g.HostPath = VisibleName(g.HostPath)
			gs = append(gs, g)
		}
		sb.Grants = gs
		out = append(out, sb)
	}
	st.Sandboxes = out
	st.Error = Clean(st.Error, 400)
}

// CheckAction validates an action the launcher reads from the manager.
func CheckAction(a *ManagerAction) error {
	if !validToken(a.Sandbox) {
		return fmt.Errorf("bad sandbox id %q", a.Sandbox)
	}
	switch a.Action {
	case ActionRevoke:
		if !validToken(a.Doc) {
			return fmt.Errorf("bad document id %q", a.Doc)
		}
	case ActionGrant:
		if !strings.HasPrefix(a.Path, "/") || len(a.Path) > MaxHostPath || strings.ContainsRune(a.Path, 0) {
			return fmt.Errorf("bad path %q", a.Path)
		}
	case ActionEnd:
	default:
		return fmt.Errorf("unknown action %q", a.Action)
	}
	return nil
}
