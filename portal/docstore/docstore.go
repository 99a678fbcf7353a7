// Package docstore serves the files and folders a user grants to sandboxes
// through one FUSE file system per user session, mounted by the broker.
//
// Layout of the mount:
//
//	<mount>/by-sandbox/<sandbox-id>/<doc-id>/<name>
//
// The launcher bind-mounts <mount>/by-sandbox/<sandbox-id> onto
// /run/user/UID/doc inside the sandbox, so a sandbox sees only its own grants
// and new grants appear inside at once, without injecting mounts.
//
// The store decides nothing about what is granted: the registry
// (portal/grants) resolves the user's pick and hands the store a descriptor
// (Add); every host operation made for the sandbox is relative to it.
//
// Why FUSE rather than bind mounts of single files: renaming over a mount
// point fails with EBUSY, which breaks every atomic save (GIO's
// g_file_replace, editors writing name~ then renaming). The FUSE store keeps
// atomic saves working and approaches native speed by letting the kernel
// cache: FOPEN_KEEP_CACHE on opens of unchanged files, one-second entry and
// attribute timeouts, and invalidation driven by fsnotify when the host file
// changes. README.md beside this file records the measurement.
package docstore

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"

	"airlock/portal/grant"
)

const (
	// cacheTimeout bounds how long the kernel trusts a cached entry or
	// attribute without asking. fsnotify invalidates sooner; the timeout is
	// the bound when a change is not reported (a change made through a hard
	// link in another directory, or below the top level of a folder grant).
	cacheTimeout = time.Second

	// hiddenPrefix starts the host names of temporary files created for an
	// atomic save of a file grant: .airlock-<docid>-<random>.
	hiddenPrefix = ".airlock-"

	// maxTemps caps the unresolved files (temporaries, lock files, new files
	// not yet kept or discarded) one file grant may hold at once, so an app
	// cannot fill the user's folder with hidden files or the screen with
	// questions.
	maxTemps = 16

	// invalDelay coalesces bursts of fsnotify events into one invalidation.
	invalDelay = 20 * time.Millisecond
)

// Store is a mounted document store.
type Store struct {
	mountPoint string
	log        *slog.Logger
	server     *fuse.Server
	root       *dirNode
	bySandbox  *fs.Inode
	watcher    *fsnotify.Watcher
	inval      *invalidator
	nextIno    atomic.Uint64
	dev        uint64 // st_dev of the mount (0: unknown; DocOf then matches nothing)
	done       chan struct{}
	saves      newFiles // new files beside granted files (newfile.go)

	mu sync.Mutex
	// views maps sandbox ids to their views; guarded by mu.
	views map[string]*view
	// watches maps a watched host directory to the grants that depend on
	// it; guarded by mu.
	watches map[string][]*served
	// closed is set by Close; guarded by mu.
	closed bool
}

type view struct {
	id    string
	label Label
	inode *fs.Inode
	// grants by doc id; guarded by Store.mu.
	grants map[string]*served
}

// Mount creates dir (0700) if needed and mounts the document store on it.
// The caller is an ordinary user: go-fuse mounts through the setuid
// fusermount3.
func Mount(dir string, log *slog.Logger) (*Store, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("cannot mount document store: %w", err)
	}
	if _, err := os.Stat("/dev/fuse"); err != nil {
		return nil, fmt.Errorf("cannot mount document store at %q: FUSE is unavailable (install fuse3, load the fuse module): %w", dir, err)
	}
	if _, err := exec.LookPath("fusermount3"); err != nil {
		return nil, fmt.Errorf("cannot mount document store at %q: fusermount3 not found (install fuse3): %w", dir, err)
	}
	// A broker that died leaves a dead mount behind: stat fails with
	// ENOTCONN. Detach it before mounting again.
	if _, err := os.Stat(dir); errors.Is(err, syscall.ENOTCONN) {
		_ = exec.Command("fusermount3", "-u", "-z", dir).Run()
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("cannot create document store mount point: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, fmt.Errorf("cannot restrict document store mount point: %w", err)
	}

	s := &Store{
		mountPoint: dir,
		log:        log,
		views:      map[string]*view{},
		watches:    map[string][]*served{},
		done:       make(chan struct{}),
	}
	s.nextIno.Store(1)
	s.saves.out = map[*NewFile]bool{}
	s.inval = &invalidator{content: map[*fs.Inode]bool{}, entries: map[entryKey]bool{}}
	s.root = &dirNode{mode: 0o500}

	timeout := cacheTimeout
	uid, gid := uint32(os.Getuid()), uint32(os.Getgid())
	opts := &fs.Options{
		EntryTimeout: &timeout,
		AttrTimeout:  &timeout,
		// No NegativeTimeout: a name granted for a save that does not
		// exist yet must appear as soon as it is created.
		UID: uid,
		GID: gid,
		MountOptions: fuse.MountOptions{
			FsName: "airlock-doc",
			Name:   "airlock-doc",
			// nosuid, nodev: nothing granted may gain privileges or reach
			// devices through the store.
			Options: []string{"nosuid", "nodev"},
			// 1 MiB WRITE requests (the go-fuse default is 128 KiB). READs
			// stay at 128 KiB whatever is asked here: the kernel offers the
			// FUSE bdi's read_ahead_kb (128) in INIT and a server may only
			// lower it; raising it is root's (/sys/class/bdi/0:N), see
			// README.md.
			MaxWrite:      1 << 20,
			MaxReadAhead:  1 << 20,
			MaxBackground: 64,
			DisableXAttrs: true,
			// The kernel also drops cached pages when it sees a new mtime
			// (AUTO_INVAL_DATA): a safety net under fsnotify.
			ExplicitDataCacheControl: false,
		},
	}
	server, err := fs.Mount(dir, s.root, opts)
	if err != nil {
		return nil, fmt.Errorf("cannot mount document store at %q (is fuse3 installed and /dev/fuse usable?): %w", dir, err)
	}
	s.server = server
	var st unix.Stat_t
	if err := unix.Stat(dir, &st); err == nil {
		s.dev = uint64(st.Dev)
	}
	s.bySandbox = s.root.NewPersistentInode(context.Background(), &dirNode{mode: 0o500}, fs.StableAttr{Mode: syscall.S_IFDIR, Ino: s.ino()})
	s.root.AddChild("by-sandbox", s.bySandbox, false)

	w, err := fsnotify.NewWatcher()
	if err != nil {
		// Without fsnotify the timeouts still bound staleness.
		log.Warn("document store runs without change notification", "err", err)
	} else {
		s.watcher = w
		go s.watchLoop()
	}
	log.Info("document store mounted", "dir", dir)
	return s, nil
}

// MountPoint is the directory the store is mounted on.
func (s *Store) MountPoint() string { return s.mountPoint }

// Close ends every grant, removes leftover lock files, keeps new files
// still waiting for the user's answer (none can be asked any more) and
// unmounts.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	views := s.views
	s.views = map[string]*view{}
	s.mu.Unlock()
	s.closeNewFiles()
	for _, v := range views {
		for _, g := range v.grants {
			s.endGrant(v, g, false)
		}
	}
	if s.watcher != nil {
		s.watcher.Close()
		<-s.done
	}
	// go-fuse's Unmount detaches the host's mount, then waits until the
	// kernel ends the FUSE connection. It does not end while another mount
	// namespace still holds a copy of the mount: a sandbox's host view
	// (native grants) copied the host's tree while this store was mounted,
	// and where the host's mounts are private (no systemd) no unmount
	// propagates to it (mount_namespaces(7)), so the wait would last as
	// long as that sandbox. The broker exits after Close: its /dev/fuse
	// descriptor closes with it, which aborts the connection
	// (fuse_dev_release), and those copies then answer ENOTCONN.
	done := make(chan error, 1)
	go func() { done <- s.server.Unmount() }()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("cannot unmount document store at %q: %w", s.mountPoint, err)
		}
	case <-time.After(unmountWait):
		s.log.Info("the document store is still mounted in another mount namespace (a sandbox's host view); it ends with this process", "dir", s.mountPoint)
	}
	return nil
}

// unmountWait bounds how long Close waits for the kernel to end the FUSE
// connection once the host's mount is gone.
const unmountWait = 3 * time.Second

func (s *Store) ino() uint64 { return s.nextIno.Add(1) }

func validName(name string) bool {
	return name != "" && name != "." && name != ".." && len(name) <= 255 && !strings.ContainsAny(name, "/\x00")
}

// AddSandbox creates the empty view of a sandbox and returns its host path,
// to be bind-mounted onto /run/user/UID/doc inside the sandbox.
func (s *Store) AddSandbox(id string, label Label) (string, error) {
	if !validName(id) {
		return "", fmt.Errorf("cannot add sandbox view: invalid sandbox id %q", id)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return "", errors.New("cannot add sandbox view: document store is closed")
	}
	if _, ok := s.views[id]; ok {
		return "", fmt.Errorf("cannot add sandbox view: sandbox %q already has one", id)
	}
	in := s.bySandbox.NewPersistentInode(context.Background(), &dirNode{mode: 0o500}, fs.StableAttr{Mode: syscall.S_IFDIR, Ino: s.ino()})
	s.bySandbox.AddChild(id, in, false)
	s.views[id] = &view{id: id, label: label, inode: in, grants: map[string]*served{}}
	return filepath.Join(s.mountPoint, "by-sandbox", id), nil
}

// Label is how Airlock's own UI names a sandbox (its profile's display
// name and icon): the store passes it on with each NewFile.
type Label struct{ Name, Icon, Color string }

// RemoveSandbox ends every grant of the sandbox (see endGrant) and makes its
// view disappear.
func (s *Store) RemoveSandbox(id string) {
	s.mu.Lock()
	v := s.views[id]
	delete(s.views, id)
	s.mu.Unlock()
	if v == nil {
		return
	}
	for _, g := range v.grants {
		s.endGrant(v, g, false)
	}
	s.bySandbox.RmChild(id)
	_ = s.bySandbox.NotifyEntry(id)
	v.inode.ForgetPersistent()
}

// Add makes g visible in its sandbox's view, served from anchor, an O_PATH
// descriptor the registry (portal/grants) opened when the user granted it:
// the granted folder itself for a folder grant, the folder holding the file
// for a file grant (the file may not exist yet: a save). The store owns
// anchor from here on, also when Add fails. It resolves no path: every host
// operation made for the sandbox is relative to anchor and never follows a
// symbolic link (see docdir.go and tree.go).
func (s *Store) Add(g grant.Grant, anchor int) error {
	name := g.Name()
	if !validName(g.DocID) || !validName(name) {
		unix.Close(anchor)
		return fmt.Errorf("cannot serve %q: invalid document id %q or name %q", g.HostPath, g.DocID, name)
	}
	sg := &served{
		Grant: g,
		name:  name,
		store: s,
		dirfd: anchor,
		temps: map[string]*docFile{},
	}
	if g.Dir {
		sg.watchDir = g.HostPath
		sg.inos = map[devIno]uint64{}
	} else {
		sg.watchDir = filepath.Dir(g.HostPath)
		sg.hostName = filepath.Base(g.HostPath)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.views[g.Sandbox]
	if v == nil || s.closed {
		unix.Close(anchor)
		return fmt.Errorf("cannot serve %q: no view for sandbox %q", g.HostPath, g.Sandbox)
	}
	if v.grants[g.DocID] != nil {
		unix.Close(anchor)
		return fmt.Errorf("cannot serve %q: sandbox %q already has document %q", g.HostPath, g.Sandbox, g.DocID)
	}
	ctx := context.Background()
	dd := &docDir{g: sg}
	sg.docDir = v.inode.NewPersistentInode(ctx, dd, fs.StableAttr{Mode: syscall.S_IFDIR, Ino: s.ino()})
	if g.Dir {
		sg.root = sg.docDir.NewPersistentInode(ctx, &treeNode{g: sg}, fs.StableAttr{Mode: syscall.S_IFDIR, Ino: s.ino()})
	}
	sg.label = v.label
	v.grants[g.DocID] = sg
	v.inode.AddChild(g.DocID, sg.docDir, false)
	s.watchLocked(sg)
	return nil
}

// Revoke ends a grant: its path is gone from the sandbox at once. Reads and
// writes on descriptors the app still holds fail with EIO, and so does
// reopening them through /proc/self/fd: cached pages of every file of the
// grant are dropped, so reads reach the store, and mapped pages are
// unmapped (the next access is SIGBUS). Copies the app made are its own: a
// private mapping it wrote to, what it read into memory before.
func (s *Store) Revoke(sandbox, docID string) error {
	s.mu.Lock()
	v := s.views[sandbox]
	var g *served
	if v != nil {
		g = v.grants[docID]
		delete(v.grants, docID)
	}
	s.mu.Unlock()
	if g == nil {
		return fmt.Errorf("cannot revoke document %q: sandbox %q has no such grant", docID, sandbox)
	}
	s.endGrant(v, g, true)
	return nil
}

// endGrant closes the grant's anchor, removes lock files, asks about new
// files that are still unanswered (newfile.go: never deleted unasked) and
// invalidates the kernel's caches. It must not be called with s.mu held:
// notifications wait for the kernel, which may wait for a request that needs
// s.mu.
func (s *Store) endGrant(v *view, g *served, notify bool) {
	g.mu.Lock()
	if g.revoked.Load() {
		g.mu.Unlock()
		return
	}
	g.revoked.Store(true)
	var ask []*NewFile
	for name, t := range g.temps {
		if t.timer != nil {
			t.timer.Stop()
			t.timer = nil
		}
		delete(g.temps, name)
		switch {
		case t.state == fileKept, t.state == fileAsking:
			// On the host under its own name, or its question is out and
			// its NewFile holds a descriptor of the folder of its own.
		case lockName(name):
			if err := unix.Unlinkat(g.dirfd, t.hostName, 0); err != nil && !errors.Is(err, unix.ENOENT) {
				s.log.Warn("cannot remove a lock file", "dir", g.watchDir, "name", t.hostName, "err", err)
			}
			t.hostName = ""
		default:
			n, err := g.question(t)
			if err != nil {
				// Not deleted: it stays on the host, hidden, and the log
				// says where.
				s.log.Error("cannot ask about a new file; it stays hidden", "path", filepath.Join(g.watchDir, t.hostName), "name", name, "err", err)
				continue
			}
			ask = append(ask, n)
		}
	}
	unix.Close(g.dirfd)
	g.dirfd = -1
	var cached []*fs.Inode
	companion := g.endCompanion()
	if g.target != nil {
		cached = append(cached, g.target.EmbeddedInode())
	}
	for _, t := range g.temps {
		cached = append(cached, t.EmbeddedInode())
	}
	g.mu.Unlock()
	if g.root != nil {
		cached = subtree(g.root, cached)
	}
	if companion != nil {
		cached = subtree(companion, cached)
	}

	s.unwatch(g)
	v.inode.RmChild(g.DocID)
	if notify {
		_ = v.inode.NotifyEntry(g.DocID)
		// Pages the kernel cached would still answer reads on descriptors
		// opened before, without a request reaching the store (which
		// answers EIO from now on): drop them, for every file of the
		// grant. Dropping a page also takes it out of every mapping
		// (invalidate_inode_pages2), so the next access faults, the read
		// fails and the kernel sends SIGBUS.
		for _, n := range cached {
			_ = n.NotifyContent(0, 0)
		}
	}
	g.docDir.ForgetPersistent()
	if companion != nil {
		companion.ForgetPersistent()
	}
	for _, n := range ask {
		s.ask(n)
	}
}

// subtree appends n and every node below it that the kernel still knows
// (a folder grant's files and folders, open ones included: an open file
// keeps its node).
func subtree(n *fs.Inode, out []*fs.Inode) []*fs.Inode {
	out = append(out, n)
	for _, c := range n.Children() {
		out = subtree(c, out)
	}
	return out
}

func randomSuffix() string {
	return strings.ToLower(rand.Text()[:12])
}
