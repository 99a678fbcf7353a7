package grants

import (
	"fmt"

	"golang.org/x/sys/unix"

	"airlock/portal/grant"
)

// ByFD returns the grant of sandbox that fd, a descriptor the sandbox
// handed in, is open on: the granted file of a file grant, served by the
// document store (docstore.DocOf: the node itself, not a path), or, for a
// grant the launcher bound natively, the very host file (same device and
// inode). Whatever else the sandbox can open (its own home, /usr, a
// temporary beside a grant) matches nothing: a portal that acts on a file
// outside the sandbox acts only on what the user granted.
func (r *Registry) ByFD(sandbox string, fd int) (grant.Grant, bool) {
	if r.store != nil {
		if id, ok := r.store.DocOf(sandbox, fd); ok {
			r.mu.Lock()
			defer r.mu.Unlock()
			if sb := r.sandboxes[sandbox]; sb != nil {
				if e := sb.docs[id]; e != nil {
					return e.Grant, true
				}
			}
			return grant.Grant{}, false
		}
	}
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		return grant.Grant{}, false
	}
	for _, g := range r.Grants(sandbox) {
		if g.Dir || !g.Native {
			continue
		}
		var hs unix.Stat_t
		if unix.Fstatat(unix.AT_FDCWD, g.HostPath, &hs, unix.AT_SYMLINK_NOFOLLOW) == nil && hs.Dev == st.Dev && hs.Ino == st.Ino {
			return g, true
		}
	}
	return grant.Grant{}, false
}

// Trash hands move the granted file of a writable file grant (its folder's
// descriptor, the one the grant was made from, and its name there) and, if
// move succeeds, ends the grant: the file is no longer where the sandbox
// was given it.
func (r *Registry) Trash(sandbox, docID string, move func(dirfd int, name string) error) error {
	r.mu.Lock()
	var g grant.Grant
	if sb := r.sandboxes[sandbox]; sb != nil {
		if e := sb.docs[docID]; e != nil {
			g = e.Grant
		}
	}
	r.mu.Unlock()
	switch {
	case g.DocID == "":
		return fmt.Errorf("cannot trash document %q: sandbox %q has no such grant", docID, sandbox)
	case g.Dir:
		return fmt.Errorf("cannot trash document %q: a folder grant", docID)
	case !g.Writable:
		return fmt.Errorf("cannot trash %q: granted read-only", g.HostPath)
	case r.store == nil:
		return ErrNoStore
	}
	if err := r.store.AtAnchor(sandbox, docID, move); err != nil {
		return fmt.Errorf("cannot trash %q: %w", g.HostPath, err)
	}
	if _, err := r.Revoke(sandbox, docID); err != nil {
		r.log.Warn("trashed a granted file but cannot end its grant", "sandbox_id", sandbox, "doc", docID, "err", err)
	}
	return nil
}
