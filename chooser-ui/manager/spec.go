// Package manager is the grant manager (`airlock manager`): a window of
// Airlock's trusted UI listing the running sandboxes and their grants, from
// which the user adds files through Airlock's chooser, revokes grants and
// ends sandboxes. It speaks protocol.ManagerState and ManagerAction with the
// launcher, which talks to the broker; it never reaches the broker itself.
package manager

import (
	"fmt"
	"time"

	"airlock/chooser-ui/gtk"
	"airlock/chooser-ui/protocol"
	"airlock/po/i18n"
)

// uptime says how long a sandbox has run, to the minute.
func uptime(started int64, now time.Time) string {
	if started <= 0 {
		return ""
	}
	d := now.Sub(time.Unix(started, 0))
	if d < time.Minute {
		return i18n.T("less than a minute")
	}
	m := int(d / time.Minute)
	if m < 60 {
		return i18n.T("%d min", m)
	}
	return i18n.T("%d h %02d min", m/60, m%60)
}

// since is when a grant was made: the time of day today, else the date.
func since(t int64, now time.Time) string {
	if t <= 0 {
		return ""
	}
	at := time.Unix(t, 0)
	if y, m, d := at.Date(); y == now.Year() && m == now.Month() && d == now.Day() {
		return at.Format("15:04")
	}
	return at.Format("2006-01-02 15:04")
}

// access says what the sandbox may do with a grant.
func access(g protocol.ManagedGrant) string {
	var s string
	if g.Writable {
		s = i18n.T("writable")
	} else {
		s = i18n.T("read-only")
	}
	if g.Dir {
		s = i18n.T("%s, folder", s)
	}
	if g.Native {
		s = i18n.T("%s, not revocable while open", s)
	}
	return s
}

// sandboxRows is the sandboxes list for st (already cleaned).
func sandboxRows(st *protocol.ManagerState, now time.Time) []gtk.SandboxRow {
	rows := make([]gtk.SandboxRow, 0, len(st.Sandboxes))
	for _, sb := range st.Sandboxes {
		rows = append(rows, gtk.SandboxRow{ID: sb.ID, Color: sb.Color, Name: sb.Name, Profile: sb.Profile,
			Network: sb.Network, Display: sb.Display, Uptime: uptime(sb.Started, now)})
	}
	return rows
}

// grantRows is the grants list of sandbox id.
func grantRows(st *protocol.ManagerState, id string, now time.Time) []gtk.GrantRow {
	sb := find(st, id)
	if sb == nil {
		return nil
	}
	rows := make([]gtk.GrantRow, 0, len(sb.Grants))
	for _, g := range sb.Grants {
		rows = append(rows, gtk.GrantRow{Doc: g.Doc, HostPath: g.HostPath, Access: access(g), Since: since(g.Since, now)})
	}
	return rows
}

func find(st *protocol.ManagerState, id string) *protocol.ManagedSandbox {
	for i := range st.Sandboxes {
		if st.Sandboxes[i].ID == id {
			return &st.Sandboxes[i]
		}
	}
	return nil
}

func findGrant(sb *protocol.ManagedSandbox, doc string) *protocol.ManagedGrant {
	if sb == nil {
		return nil
	}
	for i := range sb.Grants {
		if sb.Grants[i].Doc == doc {
			return &sb.Grants[i]
		}
	}
	return nil
}

func words() gtk.ManagerWords {
	return gtk.ManagerWords{
		Title:         i18n.T("Airlock: Sandboxes and Their Files"),
		Sandboxes:     i18n.T("Running _sandboxes"),
		SandboxesName: i18n.T("Running sandboxes"),
		Color:         i18n.T("Colour"),
		Name:          i18n.T("Name"),
		Profile:       i18n.T("Profile"),
		Network:       i18n.T("Network"),
		Display:       i18n.T("Display"),
		Uptime:        i18n.T("Running for"),
		Grants:        i18n.T("Files the selected sandbox _can see"),
		GrantsName:    i18n.T("Files the selected sandbox can see"),
		HostPath:      i18n.T("File or folder"),
		Access:        i18n.T("Access"),
		Since:         i18n.T("Since"),
		AddFile:       i18n.T("Add _File…"),
		AddFolder:     i18n.T("Add F_older…"),
		End:           i18n.T("_End Sandbox…"),
		Revoke:        i18n.T("_Revoke"),
	}
}

// endQuestion is the confirmation of ending sb.
func endQuestion(sb *protocol.ManagedSandbox) (primary, secondary string) {
	return i18n.T("End the sandbox “%s”?", sb.Name),
		fmt.Sprint(i18n.T("Its applications are closed now; what they did not save is lost."))
}
