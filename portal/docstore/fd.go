package docstore

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// DocOf names the document of sandbox that fd, a descriptor the sandbox
// handed in (OpenURI.OpenFile, Trash.TrashFile), is open on: the granted
// file of a file grant, served by this store. The descriptor says which
// node it is (the mount's device and the node number the store gave that
// node); no path the sandbox wrote is read. A temporary of an atomic save,
// a file below a folder grant and anything outside the store match nothing.
func (s *Store) DocOf(sandbox string, fd int) (docID string, ok bool) {
	var st unix.Stat_t
	if s.dev == 0 || unix.Fstat(fd, &st) != nil || uint64(st.Dev) != s.dev || st.Mode&unix.S_IFMT != unix.S_IFREG {
		return "", false
	}
	s.mu.Lock()
	v := s.views[sandbox]
	var grants []*served
	if v != nil {
		for _, g := range v.grants {
			grants = append(grants, g)
		}
	}
	s.mu.Unlock()
	for _, g := range grants {
		if g.Dir {
			continue
		}
		g.mu.RLock()
		t := g.target
		g.mu.RUnlock()
		if t != nil && !g.revoked.Load() && t.EmbeddedInode().StableAttr().Ino == st.Ino {
			return g.DocID, true
		}
	}
	return "", false
}

// ErrNoGrant: the sandbox holds no such file grant.
var ErrNoGrant = errors.New("no such file grant")

// AtAnchor runs f with the granted file's directory (an O_PATH descriptor,
// the one the grant was made from) and its name there, while the grant
// cannot end: a host operation made for the sandbox (Trash) is relative to
// that descriptor and never resolves the host path again.
func (s *Store) AtAnchor(sandbox, docID string, f func(dirfd int, name string) error) error {
	s.mu.Lock()
	var g *served
	if v := s.views[sandbox]; v != nil {
		g = v.grants[docID]
	}
	s.mu.Unlock()
	if g == nil || g.Dir {
		return fmt.Errorf("document %q of sandbox %q: %w", docID, sandbox, ErrNoGrant)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.revoked.Load() {
		return fmt.Errorf("document %q of sandbox %q: %w", docID, sandbox, ErrNoGrant)
	}
	return f(g.dirfd, g.hostName)
}
