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
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"
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

// Grant describes one document made visible in one sandbox.
type Grant struct {
	DocID    string // random, [a-z0-9]{8}
	Sandbox  string
	HostPath string // absolute host path, symlinks resolved (for a save: the file that will be created)
	Name     string // basename shown inside
	Writable bool
	Dir      bool // a folder grant: the subtree, nothing above
}

// InsidePath is where the sandbox finds the granted document.
func InsidePath(uid int, g Grant) string {
	return "/run/user/" + strconv.Itoa(uid) + "/doc/" + g.DocID + "/" + g.Name
}

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
	done       chan struct{}
	saves      newFiles // new files beside granted files (newfile.go)

	mu sync.Mutex
	// views maps sandbox ids to their views; guarded by mu.
	views map[string]*view
	// watches maps a watched host directory to the grants that depend on
	// it; guarded by mu.
	watches map[string][]*grant
	// closed is set by Close; guarded by mu.
	closed bool
}

type view struct {
	id    string
	inode *fs.Inode
	// grants by doc id; guarded by Store.mu.
	grants map[string]*grant
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
		watches:    map[string][]*grant{},
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
		// No NegativeTimeout: a name that does not exist yet (GrantNew)
		// must appear as soon as it is created.
		UID: uid,
		GID: gid,
		MountOptions: fuse.MountOptions{
			FsName: "airlock-doc",
			Name:   "airlock-doc",
			// nosuid, nodev: nothing granted may gain privileges or reach
			// devices through the store.
			Options: []string{"nosuid", "nodev"},
			// 1 MiB requests: fewer round trips on cold reads and writes
			// (the go-fuse default is 128 KiB).
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
	s.bySandbox = s.root.NewPersistentInode(context.Background(), &dirNode{mode: 0o500}, fs.StableAttr{Mode: syscall.S_IFDIR, Ino: s.ino()})
	s.root.AddChild("by-sandbox", s.bySandbox, false)

	w, err := fsnotify.NewWatcher()
	if err != nil {
		// Without fsnotify the timeouts still bound staleness.
		log.Warn("document store runs without change notification", "error", err)
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
	if err := s.server.Unmount(); err != nil {
		return fmt.Errorf("cannot unmount document store at %q: %w", s.mountPoint, err)
	}
	return nil
}

func (s *Store) ino() uint64 { return s.nextIno.Add(1) }

func validName(name string) bool {
	return name != "" && name != "." && name != ".." && len(name) <= 255 && !strings.ContainsAny(name, "/\x00")
}

// AddSandbox creates the empty view of a sandbox and returns its host path,
// to be bind-mounted onto /run/user/UID/doc inside the sandbox.
func (s *Store) AddSandbox(id string) (string, error) {
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
	s.views[id] = &view{id: id, inode: in, grants: map[string]*grant{}}
	return filepath.Join(s.mountPoint, "by-sandbox", id), nil
}

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

// Grant makes an existing host file or folder visible in the sandbox's view.
// Symlinks in hostPath are resolved now, by the broker, on the user's
// behalf; from then on nothing the sandbox does follows a symlink on the
// host.
func (s *Store) Grant(sandbox, hostPath string, writable, dir bool) (Grant, error) {
	if !filepath.IsAbs(hostPath) {
		return Grant{}, fmt.Errorf("cannot grant %q: not an absolute path", hostPath)
	}
	name := filepath.Base(hostPath)
	// The folders on the way are resolved on the user's behalf; the file
	// or folder itself must not be a symbolic link: one planted by a
	// sandbox in a folder it can write (named like a photo, pointing at a
	// key) would grant what the user never saw. From here on the grant is
	// (resolved folder, name), opened without following links.
	parent, err := filepath.EvalSymlinks(filepath.Dir(hostPath))
	if err != nil {
		return Grant{}, fmt.Errorf("cannot grant %q: %w", hostPath, err)
	}
	real := filepath.Join(parent, filepath.Base(hostPath))
	st, err := os.Lstat(real)
	if err != nil {
		return Grant{}, fmt.Errorf("cannot grant %q: %w", hostPath, err)
	}
	if st.Mode()&os.ModeSymlink != 0 {
		return Grant{}, fmt.Errorf("cannot grant %q: it is a symbolic link (grant its target)", hostPath)
	}
	switch {
	case dir && !st.IsDir():
		return Grant{}, fmt.Errorf("cannot grant %q as a folder: not a directory", hostPath)
	case !dir && !st.Mode().IsRegular():
		return Grant{}, fmt.Errorf("cannot grant %q as a file: not a regular file", hostPath)
	}
	if !validName(name) || name == "/" {
		name = filepath.Base(real)
	}
	return s.addGrant(sandbox, real, name, writable, dir)
}

// GrantNew grants a file that does not exist yet (the target of a save
// dialog). Nothing is created at grant time: the entry stays absent (ENOENT)
// until the app creates it, by opening it with O_CREAT or by renaming a
// temporary file over it, so a cancelled save leaves no empty file behind.
func (s *Store) GrantNew(sandbox, hostPath string) (Grant, error) {
	if !filepath.IsAbs(hostPath) {
		return Grant{}, fmt.Errorf("cannot grant new file %q: not an absolute path", hostPath)
	}
	name := filepath.Base(hostPath)
	if !validName(name) {
		return Grant{}, fmt.Errorf("cannot grant new file %q: invalid name", hostPath)
	}
	parent, err := filepath.EvalSymlinks(filepath.Dir(hostPath))
	if err != nil {
		return Grant{}, fmt.Errorf("cannot grant new file %q: %w", hostPath, err)
	}
	real := filepath.Join(parent, name)
	if st, err := os.Lstat(real); err == nil && !st.Mode().IsRegular() {
		return Grant{}, fmt.Errorf("cannot grant new file %q: it exists and is not a regular file", hostPath)
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return Grant{}, fmt.Errorf("cannot grant new file %q: %w", hostPath, err)
	}
	return s.addGrant(sandbox, real, name, true, false)
}

// Restore grants g.HostPath again to a sandbox under its earlier document
// id, so that paths an application remembered across runs (recent files)
// stay valid: for profiles whose grants persist. A taken or malformed id
// gets a new one.
func (s *Store) Restore(sandbox string, g Grant) (Grant, error) {
	real, err := filepath.EvalSymlinks(g.HostPath)
	if err != nil {
		return Grant{}, fmt.Errorf("cannot restore %q: %w", g.HostPath, err)
	}
	// The path was resolved when the user granted it. A symlink there now
	// was put there since, maybe by the sandbox itself in a folder it can
	// write: restoring through it would grant whatever it points to, with
	// no user action.
	if real != filepath.Clean(g.HostPath) {
		return Grant{}, fmt.Errorf("cannot restore %q: it is now reached through a symbolic link", g.HostPath)
	}
	st, err := os.Stat(real)
	if err != nil || st.IsDir() != g.Dir || (!g.Dir && !st.Mode().IsRegular()) {
		return Grant{}, fmt.Errorf("cannot restore %q: no longer the same kind of file", g.HostPath)
	}
	name := g.Name
	if !validName(name) {
		name = filepath.Base(real)
	}
	id := g.DocID
	s.mu.Lock()
	if v := s.views[sandbox]; !validDocID(id) || v == nil || v.grants[id] != nil {
		id = ""
	}
	s.mu.Unlock()
	return s.addGrantID(sandbox, real, name, g.Writable, g.Dir, id)
}

// validDocID accepts the ids newDocID makes.
func validDocID(id string) bool {
	if len(id) != 8 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= '2' && c <= '7') {
			return false
		}
	}
	return true
}

func (s *Store) addGrant(sandbox, real, name string, writable, dir bool) (Grant, error) {
	return s.addGrantID(sandbox, real, name, writable, dir, "")
}

func (s *Store) addGrantID(sandbox, real, name string, writable, dir bool, id string) (Grant, error) {
	var err error
	if id == "" {
		id, err = newDocID()
	}
	if err != nil {
		return Grant{}, fmt.Errorf("cannot grant %q: %w", real, err)
	}
	g := &grant{
		Grant: Grant{DocID: id, Sandbox: sandbox, HostPath: real, Name: name, Writable: writable, Dir: dir},
		store: s,
		temps: map[string]*docFile{},
	}
	// IMPORTANT: the descriptor opened here is the anchor of every host
	// operation made for the sandbox; all later opens are relative to it and
	// never follow symlinks.
	var anchor string
	if dir {
		anchor = real
		g.inos = map[devIno]uint64{}
	} else {
		anchor = filepath.Dir(real)
		g.hostName = filepath.Base(real)
	}
	g.watchDir = anchor
	// The anchor was resolved just now: a symlink on its way can only have
	// been swapped in since, so none is followed.
	how := unix.OpenHow{Flags: unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC, Resolve: unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS}
	g.dirfd, err = unix.Openat2(unix.AT_FDCWD, anchor, &how)
	if err != nil {
		return Grant{}, fmt.Errorf("cannot open granted folder %q: %w", anchor, err)
	}
	if !dir {
		// The file itself, seen from the anchor, not followed.
		var st unix.Stat_t
		if err := unix.Fstatat(g.dirfd, g.hostName, &st, unix.AT_SYMLINK_NOFOLLOW); err == nil && st.Mode&unix.S_IFMT != unix.S_IFREG {
			unix.Close(g.dirfd)
			return Grant{}, fmt.Errorf("cannot grant %q: not a regular file", real)
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.views[sandbox]
	if v == nil || s.closed {
		unix.Close(g.dirfd)
		return Grant{}, fmt.Errorf("cannot grant %q: no view for sandbox %q", real, sandbox)
	}
	ctx := context.Background()
	dd := &docDir{g: g}
	g.docDir = v.inode.NewPersistentInode(ctx, dd, fs.StableAttr{Mode: syscall.S_IFDIR, Ino: s.ino()})
	if dir {
		g.root = g.docDir.NewPersistentInode(ctx, &treeNode{g: g}, fs.StableAttr{Mode: syscall.S_IFDIR, Ino: s.ino()})
	}
	v.grants[id] = g
	v.inode.AddChild(id, g.docDir, false)
	s.watchLocked(g)
	return g.Grant, nil
}

// Revoke ends a grant: its path is gone from the sandbox at once. Reads and
// writes on descriptors the app still holds fail with EIO (cached pages are
// dropped, so reads reach the store; pages already mapped with mmap are the
// exception).
func (s *Store) Revoke(sandbox, docID string) error {
	s.mu.Lock()
	v := s.views[sandbox]
	var g *grant
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

// Grants lists the sandbox's grants, sorted by doc id.
func (s *Store) Grants(sandbox string) []Grant {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.views[sandbox]
	if v == nil {
		return nil
	}
	out := make([]Grant, 0, len(v.grants))
	for _, g := range v.grants {
		out = append(out, g.Grant)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].DocID < out[j].DocID })
	return out
}

// endGrant closes the grant's anchor, removes lock files, asks about new
// files that are still unanswered (newfile.go: never deleted unasked) and
// invalidates the kernel's caches. It must not be called with s.mu held:
// notifications wait for the kernel, which may wait for a request that needs
// s.mu.
func (s *Store) endGrant(v *view, g *grant, notify bool) {
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
				s.log.Warn("cannot remove a lock file", "dir", g.watchDir, "name", t.hostName, "error", err)
			}
			t.hostName = ""
		default:
			n, err := g.question(t)
			if err != nil {
				// Not deleted: it stays on the host, hidden, and the log
				// says where.
				s.log.Error("cannot ask about a new file; it stays hidden", "path", filepath.Join(g.watchDir, t.hostName), "name", name, "error", err)
				continue
			}
			ask = append(ask, n)
		}
	}
	unix.Close(g.dirfd)
	g.dirfd = -1
	var target *fs.Inode
	if g.target != nil {
		target = g.target.EmbeddedInode()
	}
	g.mu.Unlock()

	s.unwatch(g)
	v.inode.RmChild(g.DocID)
	if notify {
		_ = v.inode.NotifyEntry(g.DocID)
		if target != nil {
			_ = target.NotifyContent(0, 0)
		}
	}
	g.docDir.ForgetPersistent()
	for _, n := range ask {
		s.ask(n)
	}
}

// newDocID returns 8 characters of [a-z2-7] (crypto/rand, base32): 40 bits.
func newDocID() (string, error) {
	return strings.ToLower(rand.Text()[:8]), nil
}

func randomSuffix() string {
	return strings.ToLower(rand.Text()[:12])
}
