package docstore

import (
	"context"
	"path/filepath"
	"sync"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"

	"airlock/chooser-ui/protocol"
)

// IMPORTANT: the code in this file creates a folder on the host beside a
// granted file on behalf of a sandboxed app. The one name it creates is
// computed from the granted name (protocol.CompanionFolder), never taken
// from the app; everything inside is served by tree.go, relative to that
// folder's own descriptor with RESOLVE_BENEATH and no symlink followed.

// The companion folder: Firefox's "Save Page As → Web Page, complete"
// writes NAME.html and then NAME_files/ beside it, with the page's images,
// style sheets and scripts (nsWebBrowserPersist). A save grant lets the app
// create that one folder, which the chooser announced before the user
// saved; it goes straight to the host under its name, as the saved page
// does. Bounded: at most companionMaxEntries files and folders and
// companionMaxBytes written, no symlinks, links or special files (tree.go
// refuses them), nothing outside it (RESOLVE_BENEATH). A folder of that name
// already on the host is never merged into: it is not shown, and creating it
// fails with EEXIST, which the app reports ("could not be saved").
const (
	companionMaxEntries = 4096
	companionMaxBytes   = 1 << 30
)

// quota bounds what the app may put in a companion folder.
type quota struct {
	mu      sync.Mutex
	entries int   // files and folders created; guarded by mu
	bytes   int64 // bytes written; guarded by mu
}

// take reserves one more entry.
func (q *quota) take() syscall.Errno {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.entries >= companionMaxEntries {
		return syscall.EDQUOT
	}
	q.entries++
	return 0
}

// write reserves n more bytes.
func (q *quota) write(n int) syscall.Errno {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.bytes+int64(n) > companionMaxBytes {
		return syscall.EDQUOT
	}
	q.bytes += int64(n)
	return 0
}

// AllowFolderBeside lets the app of a save grant create the grant's
// companion folder (protocol.CompanionFolder of its name), if it has one.
// The registry calls it for grants the user made by saving (SaveFile,
// SaveFiles), whose chooser said so.
func (s *Store) AllowFolderBeside(sandbox, docID string) {
	s.mu.Lock()
	var g *served
	if v := s.views[sandbox]; v != nil {
		g = v.grants[docID]
	}
	s.mu.Unlock()
	if g == nil || g.Dir || !g.Writable {
		return
	}
	g.mu.Lock()
	g.companionName = protocol.CompanionFolder(g.name)
	g.mu.Unlock()
}

// companionEntry answers a lookup of the companion folder; g.mu must be held.
func (g *served) companionEntry(name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	c := g.companion
	if c == nil || name != g.companionName {
		return nil, syscall.ENOENT
	}
	var st unix.Stat_t
	if err := unix.Fstat(c.dirfd, &st); err != nil {
		return nil, fs.ToErrno(err)
	}
	fillAttr(&out.Attr, &st, true)
	return c.root, 0
}

// mkdirCompanion creates the companion folder on the host and serves it.
func (d *docDir) mkdirCompanion(ctx context.Context, name string, mode uint32, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	g := d.g
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case g.revoked.Load():
		return nil, syscall.ENOENT
	case g.companionName == "" || name != g.companionName:
		return nil, syscall.EPERM
	case g.companion != nil:
		return nil, syscall.EEXIST
	}
	// mkdirat fails with EEXIST on anything already there, a symlink
	// included: an existing folder is never merged into.
	if err := unix.Mkdirat(g.dirfd, name, newDirMode(mode)); err != nil {
		if err == unix.EEXIST {
			g.store.log.Info("refused a folder beside a saved page: the host already has one", "sandbox_id", g.Sandbox, "doc", g.DocID, "dir", g.watchDir, "name", name)
		}
		return nil, fs.ToErrno(err)
	}
	fd, err := unix.Openat(g.dirfd, name, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fs.ToErrno(err)
	}
	c := &served{
		Grant: g.Grant,
		name:  name,
		label: g.label,
		store: g.store,
		dirfd: fd,
		inos:  map[devIno]uint64{},
		quota: &quota{},
	}
	c.Dir, c.Writable = true, true
	c.HostPath = filepath.Join(g.watchDir, name)
	c.root = d.NewPersistentInode(ctx, &treeNode{g: c}, fs.StableAttr{Mode: syscall.S_IFDIR, Ino: g.store.ino()})
	g.companion = c
	g.store.log.Info("created a folder beside a saved page", "sandbox_id", g.Sandbox, "doc", g.DocID, "path", c.HostPath)
	return g.companionEntry(name, out)
}

// endCompanion ends the companion folder with its grant: later requests
// fail and its descriptor is closed. It returns the folder's node, whose
// subtree's cached pages the caller drops. g.mu must be held.
func (g *served) endCompanion() *fs.Inode {
	c := g.companion
	if c == nil {
		return nil
	}
	c.mu.Lock()
	c.revoked.Store(true)
	unix.Close(c.dirfd)
	c.dirfd = -1
	c.mu.Unlock()
	return c.root
}

// takeEntry counts a file or folder the app creates in a companion folder
// (nothing for a folder grant), whose name must also be printable: the
// folder reaches the user's own folder as it is.
func (g *served) takeEntry(name string) syscall.Errno {
	if g.quota == nil {
		return 0
	}
	if !validNewName(name) {
		return syscall.EINVAL
	}
	return g.quota.take()
}
