package docstore

import (
	"context"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"
)

// IMPORTANT: the code in this file opens, creates, renames and removes host
// files on behalf of a sandboxed app. Every host operation is relative to
// served.dirfd, on a single name the store chose (the granted file's name, a
// hidden temporary name it generated, or the name a new file got when the
// user kept it), never on a name the app supplied, and never follows a
// symlink (O_NOFOLLOW, AT_SYMLINK_NOFOLLOW).

// docDir is <docid>/: it lists the granted name and, for writable file
// grants, the files the app created there: temporaries of an atomic save,
// lock files, and new files (see newfile.go).
type docDir struct {
	fs.Inode
	g *served
}

var (
	_ = (fs.NodeLookuper)((*docDir)(nil))
	_ = (fs.NodeReaddirer)((*docDir)(nil))
	_ = (fs.NodeGetattrer)((*docDir)(nil))
	_ = (fs.NodeCreater)((*docDir)(nil))
	_ = (fs.NodeRenamer)((*docDir)(nil))
	_ = (fs.NodeUnlinker)((*docDir)(nil))
	_ = (fs.NodeMkdirer)((*docDir)(nil))
	_ = (fs.NodeRmdirer)((*docDir)(nil))
	_ = (fs.NodeSymlinker)((*docDir)(nil))
	_ = (fs.NodeLinker)((*docDir)(nil))
	_ = (fs.NodeMknoder)((*docDir)(nil))
	_ = (fs.NodeSetattrer)((*docDir)(nil))
	_ = (fs.NodeStatfser)((*docDir)(nil))
)

// docFile is the granted file, or a file the app created beside it.
type docFile struct {
	fs.Inode
	g *served
	cacheState
	// hostName is the file's name in g.dirfd, "" once it is gone (replaced
	// by a rename or removed); guarded by g.mu.
	hostName string
	// name is the app's name for a file it created (the key in g.temps),
	// state what became of it, opens its open handles, timer the pending
	// settled check (newfile.go); all guarded by g.mu.
	name   string
	state  fileState
	opens  int
	timer  *time.Timer
	asking *NewFile // the question out about it (state fileAsking)
}

var (
	_ = (fs.NodeOpener)((*docFile)(nil))
	_ = (fs.NodeGetattrer)((*docFile)(nil))
	_ = (fs.NodeSetattrer)((*docFile)(nil))
	_ = (fs.NodeAccesser)((*docFile)(nil))
	_ = (fs.NodeStatfser)((*docFile)(nil))
)

func (d *docDir) Getattr(ctx context.Context, f fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	out.Mode = syscall.S_IFDIR | 0o500
	if d.g.Writable && !d.g.Dir {
		// Writable so that GIO and editors choose the atomic save.
		out.Mode |= 0o200
	}
	out.Nlink = 2
	return 0
}

func (d *docDir) Statfs(ctx context.Context, out *fuse.StatfsOut) syscall.Errno {
	g := d.g
	g.mu.RLock()
	defer g.mu.RUnlock()
	if g.revoked.Load() {
		return syscall.ENOENT
	}
	return statfs(g.dirfd, out)
}

// newFile creates the node for a host name; g.mu must be held for writing.
func (d *docDir) newFile(ctx context.Context, hostName string) *docFile {
	f := &docFile{g: d.g, hostName: hostName}
	d.NewPersistentInode(ctx, f, fs.StableAttr{Mode: syscall.S_IFREG, Ino: d.g.store.ino()})
	return f
}

func (d *docDir) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	g := d.g
	if g.Dir {
		if name != g.name {
			return nil, syscall.ENOENT
		}
		var a fuse.AttrOut
		if errno := g.root.Operations().(*treeNode).Getattr(ctx, nil, &a); errno != 0 {
			return nil, errno
		}
		out.Attr = a.Attr
		return g.root, 0
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.revoked.Load() {
		return nil, syscall.ENOENT
	}
	var f *docFile
	if name == g.name {
		if g.target == nil {
			g.target = d.newFile(ctx, g.hostName)
		}
		f = g.target
	} else if name == g.companionName && g.companion != nil {
		return g.companionEntry(name, out)
	} else if f = g.temps[name]; f == nil {
		return nil, syscall.ENOENT
	}
	var st unix.Stat_t
	if err := unix.Fstatat(g.dirfd, f.hostName, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return nil, fs.ToErrno(err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		// Replaced on the host by something that is not a file: not shown.
		return nil, syscall.ENOENT
	}
	fillAttr(&out.Attr, &st, g.Writable)
	return f.EmbeddedInode(), 0
}

func (d *docDir) Readdir(ctx context.Context) (fs.DirStream, syscall.Errno) {
	g := d.g
	g.mu.RLock()
	defer g.mu.RUnlock()
	if g.revoked.Load() {
		return nil, syscall.ENOENT
	}
	var list []fuse.DirEntry
	if g.Dir {
		list = append(list, fuse.DirEntry{Name: g.name, Mode: syscall.S_IFDIR, Ino: g.root.StableAttr().Ino})
	} else {
		var st unix.Stat_t
		if unix.Fstatat(g.dirfd, g.hostName, &st, unix.AT_SYMLINK_NOFOLLOW) == nil && st.Mode&unix.S_IFMT == unix.S_IFREG {
			list = append(list, fuse.DirEntry{Name: g.name, Mode: syscall.S_IFREG})
		}
		for name := range g.temps {
			list = append(list, fuse.DirEntry{Name: name, Mode: syscall.S_IFREG})
		}
		if g.companion != nil {
			list = append(list, fuse.DirEntry{Name: g.companionName, Mode: syscall.S_IFDIR})
		}
	}
	return fs.NewListDirStream(list), 0
}

// Create opens the granted name with O_CREAT (GrantNew, or an in-place save
// that passes O_CREAT), or creates a new file: the temporary of an atomic
// save, a lock file or a new document (newfile.go). A new file lives on the
// host beside the target under a hidden name the store chose; the app's name
// for it exists only in this view until the user keeps it.
func (d *docDir) Create(ctx context.Context, name string, flags, mode uint32, out *fuse.EntryOut) (*fs.Inode, fs.FileHandle, uint32, syscall.Errno) {
	g := d.g
	if !g.Writable || g.Dir {
		return nil, nil, 0, g.refusal()
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.revoked.Load() {
		return nil, nil, 0, syscall.ENOENT
	}
	of := openFlags(flags)
	var f *docFile
	var fd int
	var err error
	switch t := g.temps[name]; {
	case name == g.name:
		fd, err = unix.Openat(g.dirfd, g.hostName, of|unix.O_CREAT|int(flags&unix.O_EXCL), newFileMode(mode))
		if err != nil {
			return nil, nil, 0, fs.ToErrno(err)
		}
		if g.target == nil {
			g.target = d.newFile(ctx, g.hostName)
		}
		f = g.target
	case t != nil:
		if flags&unix.O_EXCL != 0 {
			return nil, nil, 0, syscall.EEXIST
		}
		if fd, err = unix.Openat(g.dirfd, t.hostName, of, 0); err != nil {
			return nil, nil, 0, fs.ToErrno(err)
		}
		f = t
	default:
		if !validNewName(name) {
			return nil, nil, 0, syscall.EINVAL
		}
		if errno := g.roomForNew(); errno != 0 {
			return nil, nil, 0, errno
		}
		hidden := hiddenPrefix + g.DocID + "-" + randomSuffix()
		// No execute bits (see NewFile.keep), never group- or
		// other-writable (mode.go).
		if fd, err = unix.Openat(g.dirfd, hidden, of|unix.O_CREAT|unix.O_EXCL, newFileMode(mode)); err != nil {
			return nil, nil, 0, fs.ToErrno(err)
		}
		f = d.newFile(ctx, hidden)
		f.name, f.state = name, fileNew
		g.temps[name] = f
	}
	var st unix.Stat_t
	if errno := checkRegular(fd, &st); errno != 0 {
		return nil, nil, 0, errno
	}
	f.keep(&st)
	fillAttr(&out.Attr, &st, true)
	f.opens++ // g.mu is held
	h := newHandle(fd, g, &f.cacheState, flags)
	h.file = f
	return f.EmbeddedInode(), h, 0, 0
}

// handle makes the handle of a file just opened; g.mu must not be held.
func (f *docFile) handle(fd int, flags uint32) *handle {
	f.g.mu.Lock()
	f.opens++
	f.g.mu.Unlock()
	h := newHandle(fd, f.g, &f.cacheState, flags)
	h.file = f
	return h
}

// Rename supports the atomic save: a temporary file renamed over the
// granted name (or over a new file the user kept) is renamed over the host
// file in one renameat2. Renaming the granted file or a kept file away (to
// keep a backup) is refused: a crash before the new version arrives would
// leave the original only in a hidden temporary file.
func (d *docDir) Rename(ctx context.Context, name string, newParent fs.InodeEmbedder, newName string, flags uint32) syscall.Errno {
	g := d.g
	if !g.Writable || g.Dir {
		return g.refusal()
	}
	if newParent.EmbeddedInode() != d.EmbeddedInode() {
		return syscall.EXDEV
	}
	if flags&^unix.RENAME_NOREPLACE != 0 {
		return syscall.EINVAL
	}
	g.mu.Lock()
	if g.revoked.Load() {
		g.mu.Unlock()
		return syscall.ENOENT
	}
	src := g.temps[name]
	if src == nil || src.state == fileKept {
		g.mu.Unlock()
		if name == g.name || src != nil {
			return syscall.EPERM
		}
		return syscall.ENOENT
	}
	if name == newName {
		g.mu.Unlock()
		return 0
	}
	var gone *docFile
	dst := g.temps[newName]
	switch {
	case newName == g.name:
		// The saved version is never wider than the one it replaces.
		if errno := narrowOnto(g.dirfd, src.hostName, g.dirfd, g.hostName); errno != 0 {
			g.mu.Unlock()
			return errno
		}
		if err := unix.Renameat2(g.dirfd, src.hostName, g.dirfd, g.hostName, uint(flags)); err != nil {
			g.mu.Unlock()
			return fs.ToErrno(err)
		}
		delete(g.temps, name)
		gone = g.target
		src.hostName = g.hostName
		src.state = fileGranted
		src.resolvedByApp()
		g.target = src
	case !validNewName(newName):
		g.mu.Unlock()
		return syscall.EINVAL
	case dst != nil && dst.state == fileKept:
		// A new save of a file the user kept: it replaces the host file,
		// as a save of the granted file does.
		if errno := narrowOnto(g.dirfd, src.hostName, g.dirfd, dst.hostName); errno != 0 {
			g.mu.Unlock()
			return errno
		}
		if err := unix.Renameat2(g.dirfd, src.hostName, g.dirfd, dst.hostName, uint(flags)); err != nil {
			g.mu.Unlock()
			return fs.ToErrno(err)
		}
		delete(g.temps, name)
		src.hostName, src.state, src.name = dst.hostName, fileKept, newName
		src.resolvedByApp()
		g.temps[newName] = src
		gone = dst
	default:
		if dst != nil {
			if flags&unix.RENAME_NOREPLACE != 0 {
				g.mu.Unlock()
				return syscall.EEXIST
			}
			// Replaced by the app's own newer file: its question, if
			// one is out, no longer applies (NewFile checks hostName).
			if err := unix.Unlinkat(g.dirfd, dst.hostName, 0); err != nil {
				g.mu.Unlock()
				return fs.ToErrno(err)
			}
			gone = dst
		}
		delete(g.temps, name)
		src.name = newName
		g.temps[newName] = src
	}
	if gone != nil {
		gone.hostName = ""
		gone.resolvedByApp()
	}
	g.mu.Unlock()
	if gone != nil {
		gone.ForgetPersistent()
	}
	return 0
}

// Unlink removes a file the app created. The granted file and new files the
// user kept cannot be removed through the store.
func (d *docDir) Unlink(ctx context.Context, name string) syscall.Errno {
	g := d.g
	if !g.Writable || g.Dir {
		return g.refusal()
	}
	g.mu.Lock()
	if g.revoked.Load() {
		g.mu.Unlock()
		return syscall.ENOENT
	}
	t := g.temps[name]
	if t == nil || t.state == fileKept {
		g.mu.Unlock()
		if name == g.name || t != nil {
			return syscall.EPERM
		}
		return syscall.ENOENT
	}
	err := unix.Unlinkat(g.dirfd, t.hostName, 0)
	if err == nil || err == unix.ENOENT {
		delete(g.temps, name)
		t.hostName = ""
		t.resolvedByApp()
		err = nil
	}
	g.mu.Unlock()
	if err == nil {
		t.ForgetPersistent()
	}
	return fs.ToErrno(err)
}

func (d *docDir) Mkdir(ctx context.Context, name string, mode uint32, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	if d.g.Writable && !d.g.Dir {
		return d.mkdirCompanion(ctx, name, mode, out) // companion.go
	}
	return nil, d.g.refusal()
}

func (d *docDir) Rmdir(ctx context.Context, name string) syscall.Errno { return d.g.refusal() }

func (d *docDir) Symlink(ctx context.Context, target, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	return nil, d.g.refusal()
}

func (d *docDir) Link(ctx context.Context, target fs.InodeEmbedder, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	return nil, d.g.refusal()
}

func (d *docDir) Mknod(ctx context.Context, name string, mode, dev uint32, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	return nil, d.g.refusal()
}

func (d *docDir) Setattr(ctx context.Context, f fs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	return d.g.refusal()
}

func (f *docFile) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	g := f.g
	if !g.Writable && wantsWrite(flags) {
		return nil, 0, syscall.EROFS
	}
	g.mu.RLock()
	if g.revoked.Load() || f.hostName == "" {
		g.mu.RUnlock()
		return nil, 0, syscall.ENOENT
	}
	fd, err := unix.Openat(g.dirfd, f.hostName, openFlags(flags), 0)
	g.mu.RUnlock()
	if err != nil {
		return nil, 0, fs.ToErrno(err)
	}
	var st unix.Stat_t
	if errno := checkRegular(fd, &st); errno != 0 {
		return nil, 0, errno
	}
	fuseFlags := openOutFlags(flags)
	if f.keep(&st) {
		fuseFlags |= fuse.FOPEN_KEEP_CACHE
	}
	return f.handle(fd, flags), fuseFlags, 0
}

func (f *docFile) Getattr(ctx context.Context, fh fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	if h, ok := fh.(*handle); ok {
		return h.Getattr(ctx, out)
	}
	g := f.g
	g.mu.RLock()
	defer g.mu.RUnlock()
	if g.revoked.Load() || f.hostName == "" {
		return syscall.ENOENT
	}
	var st unix.Stat_t
	if err := unix.Fstatat(g.dirfd, f.hostName, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fs.ToErrno(err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return syscall.ENOENT
	}
	fillAttr(&out.Attr, &st, g.Writable)
	return 0
}

func (f *docFile) Setattr(ctx context.Context, fh fs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	g := f.g
	if !g.Writable {
		return syscall.EROFS
	}
	if h, ok := fh.(*handle); ok {
		g.mu.RLock()
		allow := f.allowedBits()
		g.mu.RUnlock()
		if errno := setattrFd(h.fd, in, allow); errno != 0 {
			return errno
		}
		return h.Getattr(ctx, out)
	}
	g.mu.RLock()
	if g.revoked.Load() || f.hostName == "" {
		g.mu.RUnlock()
		return syscall.ENOENT
	}
	allow := f.allowedBits()
	fd, err := unix.Openat(g.dirfd, f.hostName, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	g.mu.RUnlock()
	if err != nil {
		return fs.ToErrno(err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return fs.ToErrno(err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return syscall.EPERM
	}
	if errno := setattrFd(fd, in, allow); errno != 0 {
		return errno
	}
	if err := unix.Fstat(fd, &st); err != nil {
		return fs.ToErrno(err)
	}
	fillAttr(&out.Attr, &st, true)
	return 0
}

// allowedBits are the group and other bits a chmod of f may add: for a file
// the app created beside the granted file (the temporary of an atomic
// save), those of the granted file, which GIO and others copy onto the
// temporary so that the saved version keeps the original's mode; none for
// the granted file itself. g.mu must be held.
func (f *docFile) allowedBits() uint32 {
	g := f.g
	if f == g.target || f.state != fileNew || g.hostName == "" {
		return 0
	}
	var st unix.Stat_t
	if unix.Fstatat(g.dirfd, g.hostName, &st, unix.AT_SYMLINK_NOFOLLOW) != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		return 0
	}
	return st.Mode & 0o077
}

func (f *docFile) Access(ctx context.Context, mask uint32) syscall.Errno { return f.g.access(mask) }

func (f *docFile) Statfs(ctx context.Context, out *fuse.StatfsOut) syscall.Errno {
	return f.g.statfs(out)
}
