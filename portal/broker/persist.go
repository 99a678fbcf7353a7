package broker

import (
	"encoding/json"
	"os"
	"path/filepath"
)

// Grants of a profile with persistent_grants = true outlive its sandbox: they
// are kept in $XDG_STATE_HOME/airlock/grants/PROFILE.json and granted again,
// under the same document ids, when a sandbox of that profile registers.
// Everything else is amnesic.

type savedGrant struct {
	DocID    string `json:"doc_id"`
	HostPath string `json:"host_path"`
	Writable bool   `json:"writable"`
	Dir      bool   `json:"dir"`
}

func grantsFile(profile string) string {
	dir := os.Getenv("XDG_STATE_HOME")
	if dir == "" {
		h, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		dir = filepath.Join(h, ".local", "state")
	}
	// The profile name is the launcher's (a file name without .toml);
	// Base keeps a bad one from naming a path elsewhere.
	return filepath.Join(dir, "airlock", "grants", filepath.Base(profile)+".json")
}

func (b *Broker) restoreGrants(sb *Sandbox) {
	f := grantsFile(sb.Profile)
	raw, err := os.ReadFile(f)
	if err != nil {
		return
	}
	var saved []savedGrant
	if err := json.Unmarshal(raw, &saved); err != nil {
		b.log.Warn("cannot read saved grants", "file", f, "err", err)
		return
	}
	for _, g := range saved {
		d, err := b.docs.Restore(sb.ID, Doc{DocID: g.DocID, HostPath: g.HostPath, Writable: g.Writable, Dir: g.Dir, Name: filepath.Base(g.HostPath)})
		if err != nil {
			b.log.Info("saved grant not restored", "sandbox_id", sb.ID, "host_path", g.HostPath, "err", err)
			continue
		}
		b.log.Info("grant restored", "sandbox_id", sb.ID, "doc", d.DocID, "host_path", d.HostPath)
	}
}

// saveGrants writes the sandbox's grants if its profile keeps them.
func (b *Broker) saveGrants(sb *Sandbox) {
	if sb == nil || !sb.PersistentGrants || b.docs == nil {
		return
	}
	var saved []savedGrant
	for _, d := range b.docs.Grants(sb.ID) {
		if _, err := os.Stat(d.HostPath); err != nil {
			continue // a save that never happened
		}
		saved = append(saved, savedGrant{DocID: d.DocID, HostPath: d.HostPath, Writable: d.Writable, Dir: d.Dir})
	}
	f := grantsFile(sb.Profile)
	if f == "" {
		return
	}
	raw, _ := json.MarshalIndent(saved, "", "  ")
	os.MkdirAll(filepath.Dir(f), 0o700)
	tmp := f + ".tmp"
	if err := os.WriteFile(tmp, raw, 0o600); err == nil {
		os.Rename(tmp, f)
	}
}
