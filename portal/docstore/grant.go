package docstore

import (
	"context"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"

	"airlock/portal/grant"
)

type devIno struct{ dev, ino uint64 }

// served is the store's side of a grant: the descriptor it was made from
// and the nodes that show it.
type served struct {
	grant.Grant
	name     string // the name shown inside, Grant.Name()
	label    Label  // the sandbox's, for questions about new files
	store    *Store
	watchDir string    // host directory watched for changes
	docDir   *fs.Inode // <docid>/
	root     *fs.Inode // folder grants: the granted folder, <docid>/<name>; immutable
	revoked  atomic.Bool

	// mu guards dirfd against being closed while an operation uses it: a
	// reused descriptor number would point the operation at another
	// directory. Operations hold it for reading; changes to the fields
	// below, and revocation, hold it for writing.
	mu sync.RWMutex
	// dirfd is an O_PATH descriptor of the granted folder (folder grants)
	// or of the directory holding the granted file (file grants).
	dirfd int
	// hostName is the name of the granted file in dirfd (file grants).
	hostName string
	// target is the node currently shown as Name (file grants), nil until
	// looked up or created.
	target *docFile
	// temps maps the names the app gave the files it created to their nodes.
	temps map[string]*docFile
	// refusedNew is set once a create was refused for too many unresolved
	// new files (logged once per grant).
	refusedNew bool
	// companionName is the folder a save grant lets the app create beside
	// the file ("" when none: companion.go), companion that folder once
	// created.
	companionName string
	companion     *served

	// quota bounds a companion folder's contents (nil for grants).
	quota *quota

	inoMu sync.Mutex
	// inos gives host files of a folder grant stable inode numbers of
	// their own, so that the same host file in two grants never shares an
	// inode (and so never shares a grant's permissions); guarded by inoMu.
	inos map[devIno]uint64
}

func (g *served) inoFor(st *unix.Stat_t) uint64 {
	g.inoMu.Lock()
	defer g.inoMu.Unlock()
	k := devIno{uint64(st.Dev), st.Ino}
	if n, ok := g.inos[k]; ok {
		return n
	}
	n := g.store.ino()
	g.inos[k] = n
	return n
}

// refusal is the errno for a change the grant does not allow: EROFS when the
// whole grant is read-only, EPERM for an operation no grant allows (deleting
// the granted file, creating directories or links beside it).
func (g *served) refusal() syscall.Errno {
	if !g.Writable {
		return syscall.EROFS
	}
	return syscall.EPERM
}

// fillAttr converts a host stat. Set-id bits are never shown (the mount is
// nosuid anyway) and a read-only grant shows no write bits.
func fillAttr(a *fuse.Attr, st *unix.Stat_t, writable bool) {
	a.Ino = 0 // the bridge fills in the node's own inode number
	a.Size = uint64(st.Size)
	a.Blocks = uint64(st.Blocks)
	a.Atime, a.Atimensec = uint64(st.Atim.Sec), uint32(st.Atim.Nsec)
	a.Mtime, a.Mtimensec = uint64(st.Mtim.Sec), uint32(st.Mtim.Nsec)
	a.Ctime, a.Ctimensec = uint64(st.Ctim.Sec), uint32(st.Ctim.Nsec)
	a.Mode = st.Mode &^ (unix.S_ISUID | unix.S_ISGID)
	if !writable {
		a.Mode &^= 0o222
	}
	a.Nlink = uint32(st.Nlink)
	a.Uid, a.Gid = st.Uid, st.Gid
	a.Rdev = uint32(st.Rdev)
	a.Blksize = uint32(st.Blksize)
}

// fingerprint identifies one version of a host file, to decide whether the
// kernel may keep the pages it cached from an earlier open.
type fingerprint struct {
	dev, ino     uint64
	size         int64
	mtime, ctime unix.Timespec
}

func fingerprintOf(st *unix.Stat_t) fingerprint {
	return fingerprint{uint64(st.Dev), st.Ino, st.Size, st.Mtim, st.Ctim}
}

// cacheState is embedded in file nodes.
type cacheState struct {
	mu sync.Mutex
	// last is the version seen at the last open or last writer's release;
	// guarded by mu.
	last fingerprint
	// writers counts open writable handles. While the app writes, the
	// fsnotify events are its own writes, which the kernel cache already
	// holds, so they do not invalidate it.
	writers atomic.Int32
}

// keep records the version now open and reports whether it is the one the
// kernel may still have cached.
func (c *cacheState) keep(st *unix.Stat_t) bool {
	fp := fingerprintOf(st)
	c.mu.Lock()
	defer c.mu.Unlock()
	same := c.last == fp && fp.ino != 0
	c.last = fp
	return same
}

func (c *cacheState) record(fd int) {
	var st unix.Stat_t
	if unix.Fstat(fd, &st) == nil {
		c.mu.Lock()
		c.last = fingerprintOf(&st)
		c.mu.Unlock()
	}
}

// openFlags turns the flags of a FUSE open into those used on the host:
// never follow a symlink, never block on a FIFO (the result is checked to be
// a regular file), never become a controlling terminal, no O_DIRECT (the
// kernel's FUSE cache sits above us).
func openFlags(flags uint32) int {
	f := int(flags) &^ (unix.O_CREAT | unix.O_EXCL | unix.O_NOCTTY | unix.O_DIRECT | unix.O_PATH | unix.O_TMPFILE)
	return f | unix.O_NOFOLLOW | unix.O_NONBLOCK | unix.O_CLOEXEC
}

// openOutFlags are the FOPEN_ flags of every open of a granted file.
//
// FOPEN_NOFLUSH on read-only opens: the kernel then sends no FLUSH request
// when the app closes the descriptor, one round trip to the store less per
// open+close (grants.sh: open+close is the store's costliest small
// operation). FLUSH tells the store nothing it needs: writes reach the host
// file as they come (no writeback cache), locks are not forwarded
// (EnableLocks is off), and a read-only descriptor has no shared writable
// mapping whose dirty pages the kernel would write back in the flush. A
// writable open keeps FLUSH: pages dirtied through a shared mapping are then
// written to the host before close returns, as before, and not lost to a
// revocation that comes later (fuse_flush writes them back, fs/fuse/file.c).
func openOutFlags(flags uint32) uint32 {
	if flags&unix.O_ACCMODE == unix.O_RDONLY {
		return fuse.FOPEN_NOFLUSH
	}
	return 0
}

func wantsWrite(flags uint32) bool {
	return flags&unix.O_ACCMODE != unix.O_RDONLY || flags&unix.O_TRUNC != 0
}

// checkRegular closes fd unless it is a regular file.
func checkRegular(fd int, st *unix.Stat_t) syscall.Errno {
	if err := unix.Fstat(fd, st); err != nil {
		unix.Close(fd)
		return fs.ToErrno(err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		unix.Close(fd)
		return syscall.EPERM
	}
	return 0
}

// setattrFd applies a SETATTR to the file open (possibly O_PATH) at fd,
// through its /proc/self/fd magic link, which names that very inode. A new
// mode is never wider than the file's (chmodMode), but for the group and
// other bits in allow.
func setattrFd(fd int, in *fuse.SetAttrIn, allow uint32) syscall.Errno {
	p := "/proc/self/fd/" + itoa(fd)
	if m, ok := in.GetMode(); ok {
		// Never wider than the host file is now (mode.go).
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			return fs.ToErrno(err)
		}
		mode, errno := chmodMode(m&0o7777, st.Mode&0o7777|allow&0o077)
		if errno != 0 {
			return errno
		}
		if err := unix.Chmod(p, mode); err != nil {
			return fs.ToErrno(err)
		}
	}
	uid, uok := in.GetUID()
	gid, gok := in.GetGID()
	if uok || gok {
		u, g := -1, -1
		if uok {
			u = int(uid)
		}
		if gok {
			g = int(gid)
		}
		// The kernel decides: an ordinary broker can only chown to itself
		// or to its own groups. GIO's atomic save fchowns the temporary
		// file to the original owner and falls back to writing in place if
		// that fails.
		if err := unix.Chown(p, u, g); err != nil {
			return fs.ToErrno(err)
		}
	}
	if sz, ok := in.GetSize(); ok {
		if err := unix.Truncate(p, int64(sz)); err != nil {
			return fs.ToErrno(err)
		}
	}
	if in.Valid&(fuse.FATTR_ATIME|fuse.FATTR_MTIME) != 0 {
		ts := []unix.Timespec{{Nsec: unix.UTIME_OMIT}, {Nsec: unix.UTIME_OMIT}}
		if t, ok := in.GetATime(); ok {
			ts[0] = unix.NsecToTimespec(t.UnixNano())
			if in.Valid&fuse.FATTR_ATIME_NOW != 0 {
				ts[0] = unix.Timespec{Nsec: unix.UTIME_NOW}
			}
		}
		if t, ok := in.GetMTime(); ok {
			ts[1] = unix.NsecToTimespec(t.UnixNano())
			if in.Valid&fuse.FATTR_MTIME_NOW != 0 {
				ts[1] = unix.Timespec{Nsec: unix.UTIME_NOW}
			}
		}
		if err := unix.UtimesNanoAt(unix.AT_FDCWD, p, ts, 0); err != nil {
			return fs.ToErrno(err)
		}
	}
	return 0
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}

func statfs(fd int, out *fuse.StatfsOut) syscall.Errno {
	var st unix.Statfs_t
	if err := unix.Fstatfs(fd, &st); err != nil {
		return fs.ToErrno(err)
	}
	out.Blocks, out.Bfree, out.Bavail = st.Blocks, st.Bfree, st.Bavail
	out.Files, out.Ffree = st.Files, st.Ffree
	out.Bsize, out.Frsize = uint32(st.Bsize), uint32(st.Frsize)
	out.NameLen = uint32(st.Namelen)
	return 0
}

// dirNode is a static directory: the root, by-sandbox and the views.
type dirNode struct {
	fs.Inode
	mode uint32
}

var _ = (fs.NodeGetattrer)((*dirNode)(nil))

func (d *dirNode) Getattr(ctx context.Context, f fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	out.Mode = syscall.S_IFDIR | d.mode
	out.Nlink = 2
	return 0
}

// handle is an open host file.
type handle struct {
	fd    int
	g     *served
	cache *cacheState
	write bool
	file  *docFile // file grants: the node, told when the handle closes
}

var (
	_ = (fs.FileReader)((*handle)(nil))
	_ = (fs.FileWriter)((*handle)(nil))
	_ = (fs.FileReleaser)((*handle)(nil))
	_ = (fs.FileFsyncer)((*handle)(nil))
	_ = (fs.FileGetattrer)((*handle)(nil))
	_ = (fs.FileLseeker)((*handle)(nil))
	_ = (fs.FileAllocater)((*handle)(nil))
)

func newHandle(fd int, g *served, c *cacheState, flags uint32) *handle {
	h := &handle{fd: fd, g: g, cache: c, write: flags&unix.O_ACCMODE != unix.O_RDONLY}
	if h.write {
		c.writers.Add(1)
	}
	return h
}

func (h *handle) Read(ctx context.Context, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	if h.g.revoked.Load() {
		return nil, syscall.EIO
	}
	return fuse.ReadResultFd(uintptr(h.fd), off, len(dest)), 0
}

func (h *handle) Write(ctx context.Context, data []byte, off int64) (uint32, syscall.Errno) {
	if h.g.revoked.Load() {
		return 0, syscall.EIO
	}
	if q := h.g.quota; q != nil {
		if errno := q.write(len(data)); errno != 0 {
			return 0, errno
		}
	}
	n, err := unix.Pwrite(h.fd, data, off)
	return uint32(n), fs.ToErrno(err)
}

func (h *handle) Fsync(ctx context.Context, flags uint32) syscall.Errno {
	if h.g.revoked.Load() {
		return syscall.EIO
	}
	if flags&1 != 0 { // FUSE_FSYNC_FDATASYNC
		return fs.ToErrno(unix.Fdatasync(h.fd))
	}
	return fs.ToErrno(unix.Fsync(h.fd))
}

func (h *handle) Getattr(ctx context.Context, out *fuse.AttrOut) syscall.Errno {
	// After the grant ends, nothing more of the host file: not even its
	// size or times through fstat.
	if h.g.revoked.Load() {
		return syscall.EIO
	}
	var st unix.Stat_t
	if err := unix.Fstat(h.fd, &st); err != nil {
		return fs.ToErrno(err)
	}
	fillAttr(&out.Attr, &st, h.g.Writable)
	return 0
}

func (h *handle) Lseek(ctx context.Context, off uint64, whence uint32) (uint64, syscall.Errno) {
	if h.g.revoked.Load() { // SEEK_DATA and SEEK_HOLE tell the file's layout
		return 0, syscall.EIO
	}
	n, err := unix.Seek(h.fd, int64(off), int(whence))
	return uint64(n), fs.ToErrno(err)
}

func (h *handle) Allocate(ctx context.Context, off, size uint64, mode uint32) syscall.Errno {
	if h.g.revoked.Load() {
		return syscall.EIO
	}
	if h.g.quota != nil {
		return syscall.EOPNOTSUPP // would bypass the byte cap
	}
	return fs.ToErrno(unix.Fallocate(h.fd, mode, int64(off), int64(size)))
}

func (h *handle) Release(ctx context.Context) syscall.Errno {
	if h.write {
		// The kernel's cache holds what the app wrote: remember this
		// version so that the next open keeps it.
		h.cache.record(h.fd)
		h.cache.writers.Add(-1)
	}
	err := unix.Close(h.fd)
	if h.file != nil {
		h.file.released()
	}
	return fs.ToErrno(err)
}

// access answers access(2) for any node of the grant: no write on a
// read-only grant.
func (g *served) access(mask uint32) syscall.Errno {
	if mask&unix.W_OK != 0 && !g.Writable {
		return syscall.EROFS
	}
	return 0
}

// statfs answers statfs(2) for any node of the grant with the host file
// system's figures, until the grant is revoked.
func (g *served) statfs(out *fuse.StatfsOut) syscall.Errno {
	g.mu.RLock()
	defer g.mu.RUnlock()
	if g.revoked.Load() {
		return syscall.ENOENT
	}
	return statfs(g.dirfd, out)
}
