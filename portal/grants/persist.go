package grants

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"airlock/portal/grant"
)

// Grants of a profile with persistent_grants = true outlive its sandbox: they
// are kept in $XDG_STATE_HOME/airlock/grants/PROFILE.json (grant.Grant's JSON
// form) and granted again, under the same document ids, when a sandbox of
// that profile registers, so that paths an application remembered across
// runs (recent files) stay valid. Everything else is amnesic.

// grantsFile is the persistent grants file of profile.
func grantsFile(profile string) (string, error) {
	dir := os.Getenv("XDG_STATE_HOME")
	if dir == "" {
		h, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("cannot find the state folder: %w", err)
		}
		dir = filepath.Join(h, ".local", "state")
	}
	// The profile name is the launcher's (a file name without .toml);
	// Base keeps a bad one from naming a path elsewhere.
	return filepath.Join(dir, "airlock", "grants", filepath.Base(profile)+".json"), nil
}

// restore grants again what the profile kept. A grant that cannot be made
// as it was (gone, another kind of file now, reached through a symbolic
// link now) is dropped and logged.
func (r *Registry) restore(s Sandbox) {
	f, err := grantsFile(s.Profile)
	if err != nil {
		r.log.Warn("saved grants not restored", "sandbox_id", s.ID, "err", err)
		return
	}
	raw, err := os.ReadFile(f)
	if errors.Is(err, os.ErrNotExist) {
		return
	} else if err != nil {
		r.log.Warn("cannot read saved grants", "file", f, "err", err)
		return
	}
	var saved []grant.Grant
	if err := json.Unmarshal(raw, &saved); err != nil {
		r.log.Warn("cannot read saved grants", "file", f, "err", err)
		return
	}
	r.mu.Lock()
	sb := r.sandboxes[s.ID]
	r.mu.Unlock()
	for _, sg := range saved {
		g, err := r.restoreOne(sb, sg)
		if err != nil {
			r.log.Info("saved grant not restored", "sandbox_id", s.ID, "host_path", sg.HostPath, "err", err)
			continue
		}
		r.log.Info("grant restored", "sandbox_id", s.ID, "doc", g.DocID, "host_path", g.HostPath)
	}
}

func (r *Registry) restoreOne(sb *sandbox, sg grant.Grant) (grant.Grant, error) {
	p, err := open(sg.HostPath, Open, true)
	if err != nil {
		return grant.Grant{}, err
	}
	if p.dir != sg.Dir {
		closeAnchor(p)
		return grant.Grant{}, fmt.Errorf("cannot restore %q: no longer the same kind of file", sg.HostPath)
	}
	return r.add(sb, p, sg.Writable, sg.DocID)
}

// saveLogged saves, and logs a failure: the grant itself stands, but it will
// not come back with the next sandbox of the profile.
func (r *Registry) saveLogged(sb *sandbox) {
	if err := r.save(sb); err != nil {
		r.log.Warn("cannot save the profile's grants: they will not be restored", "sandbox_id", sb.ID, "profile", sb.Profile, "err", err)
	}
}

// save writes the sandbox's grants if its profile keeps them.
func (r *Registry) save(sb *sandbox) error {
	if !sb.Persistent {
		return nil
	}
	r.saveMu.Lock()
	defer r.saveMu.Unlock()
	r.mu.Lock()
	saved := []grant.Grant{}
	for _, e := range sb.docs {
		saved = append(saved, e.Grant)
	}
	r.mu.Unlock()
	sort.Slice(saved, func(i, j int) bool { return saved[i].DocID < saved[j].DocID })
	kept := saved[:0]
	for _, g := range saved {
		if _, err := os.Lstat(g.HostPath); err == nil {
			kept = append(kept, g) // not a save that never happened
		}
	}
	f, err := grantsFile(sb.Profile)
	if err != nil {
		return err
	}
	raw, err := json.MarshalIndent(kept, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(f), 0o700); err != nil {
		return fmt.Errorf("cannot save grants: %w", err)
	}
	tmp := f + ".tmp"
	if err := os.WriteFile(tmp, raw, 0o600); err != nil {
		return fmt.Errorf("cannot save grants: %w", err)
	}
	if err := os.Rename(tmp, f); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("cannot save grants: %w", err)
	}
	return nil
}
