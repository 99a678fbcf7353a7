package docstore

import (
	"context"
	"strings"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"
)

// IMPORTANT: the code in this file opens host files on behalf of a sandboxed
// app inside a granted folder. Every path is resolved by openat2 relative to
// the folder's descriptor with RESOLVE_BENEATH (no ".." above it, no absolute
// paths) and RESOLVE_NO_SYMLINKS (no symlink followed in any component), and
// final components are opened with O_NOFOLLOW or AT_SYMLINK_NOFOLLOW. A
// symlink inside the folder is shown as it is (readlink works) but the store
// never follows it: inside the sandbox the kernel resolves it against the
// sandbox's own root, never against the host. Symlinks and hard links cannot
// be created through the store: a link the app plants would be followed
// later by host programs outside the sandbox.

// resolveFlags confine every host path resolution to the granted folder.
const resolveFlags = unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS

// openBeneath opens rel (relative to the granted folder) without following
// any symlink and without leaving the folder.
func openBeneath(dirfd int, rel string, flags int, mode uint32) (int, error) {
	how := unix.OpenHow{Flags: uint64(flags | unix.O_NOFOLLOW | unix.O_CLOEXEC), Resolve: resolveFlags}
	if flags&unix.O_CREAT != 0 {
		how.Mode = uint64(mode)
	}
	for {
		fd, err := unix.Openat2(dirfd, rel, &how)
		if err != unix.EINTR && err != unix.EAGAIN {
			return fd, err
		}
	}
}

// treeNode is a file, directory or symlink inside a folder grant.
type treeNode struct {
	fs.Inode
	g *served
	cacheState
}

var (
	_ = (fs.NodeLookuper)((*treeNode)(nil))
	_ = (fs.NodeReaddirer)((*treeNode)(nil))
	_ = (fs.NodeGetattrer)((*treeNode)(nil))
	_ = (fs.NodeSetattrer)((*treeNode)(nil))
	_ = (fs.NodeOpener)((*treeNode)(nil))
	_ = (fs.NodeCreater)((*treeNode)(nil))
	_ = (fs.NodeMkdirer)((*treeNode)(nil))
	_ = (fs.NodeUnlinker)((*treeNode)(nil))
	_ = (fs.NodeRmdirer)((*treeNode)(nil))
	_ = (fs.NodeRenamer)((*treeNode)(nil))
	_ = (fs.NodeSymlinker)((*treeNode)(nil))
	_ = (fs.NodeLinker)((*treeNode)(nil))
	_ = (fs.NodeMknoder)((*treeNode)(nil))
	_ = (fs.NodeReadlinker)((*treeNode)(nil))
	_ = (fs.NodeAccesser)((*treeNode)(nil))
	_ = (fs.NodeStatfser)((*treeNode)(nil))
)

// rel is the node's path relative to the granted folder, built from the
// names in the store's own tree (kernel-supplied names, never containing
// "/"), "." for the folder itself.
func (n *treeNode) rel() (string, syscall.Errno) {
	var parts []string
	for p := n.EmbeddedInode(); p != n.g.root; {
		name, parent := p.Parent()
		if parent == nil {
			return "", syscall.ENOENT // removed, or the grant ended
		}
		parts = append(parts, name)
		p = parent
	}
	if len(parts) == 0 {
		return ".", 0
	}
	for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
		parts[i], parts[j] = parts[j], parts[i]
	}
	return strings.Join(parts, "/"), 0
}

// withDir runs fn with a descriptor of this directory, under the grant's
// read lock.
func (n *treeNode) withDir(fn func(dfd int) syscall.Errno) syscall.Errno {
	rel, errno := n.rel()
	if errno != 0 {
		return errno
	}
	g := n.g
	g.mu.RLock()
	defer g.mu.RUnlock()
	if g.revoked.Load() {
		return syscall.ENOENT
	}
	if rel == "." {
		return fn(g.dirfd)
	}
	dfd, err := openBeneath(g.dirfd, rel, unix.O_PATH|unix.O_DIRECTORY, 0)
	if err != nil {
		return fs.ToErrno(err)
	}
	defer unix.Close(dfd)
	return fn(dfd)
}

// withSelf runs fn with an O_PATH descriptor of this node itself (a symlink
// stays a symlink), under the grant's read lock.
func (n *treeNode) withSelf(fn func(fd int) syscall.Errno) syscall.Errno {
	rel, errno := n.rel()
	if errno != 0 {
		return errno
	}
	g := n.g
	g.mu.RLock()
	defer g.mu.RUnlock()
	if g.revoked.Load() {
		return syscall.ENOENT
	}
	fd, err := openBeneath(g.dirfd, rel, unix.O_PATH, 0)
	if err != nil {
		return fs.ToErrno(err)
	}
	defer unix.Close(fd)
	return fn(fd)
}

func (n *treeNode) child(ctx context.Context, st *unix.Stat_t, out *fuse.EntryOut) *fs.Inode {
	fillAttr(&out.Attr, st, n.g.Writable)
	return n.NewInode(ctx, &treeNode{g: n.g}, fs.StableAttr{Mode: st.Mode & unix.S_IFMT, Ino: n.g.inoFor(st)})
}

func (n *treeNode) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	if !validName(name) {
		return nil, syscall.ENOENT
	}
	var st unix.Stat_t
	errno := n.withDir(func(dfd int) syscall.Errno {
		return fs.ToErrno(unix.Fstatat(dfd, name, &st, unix.AT_SYMLINK_NOFOLLOW))
	})
	if errno != 0 {
		return nil, errno
	}
	return n.child(ctx, &st, out), 0
}

func (n *treeNode) Readdir(ctx context.Context) (fs.DirStream, syscall.Errno) {
	var ds fs.DirStream
	errno := n.withDir(func(dfd int) syscall.Errno {
		fd, err := unix.Openat(dfd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return fs.ToErrno(err)
		}
		var errno syscall.Errno
		ds, errno = fs.NewLoopbackDirStreamFd(fd)
		return errno
	})
	return ds, errno
}

func (n *treeNode) Getattr(ctx context.Context, fh fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	if h, ok := fh.(*handle); ok {
		return h.Getattr(ctx, out)
	}
	return n.withSelf(func(fd int) syscall.Errno {
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			return fs.ToErrno(err)
		}
		fillAttr(&out.Attr, &st, n.g.Writable)
		return 0
	})
}

func (n *treeNode) Setattr(ctx context.Context, fh fs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	if !n.g.Writable {
		return syscall.EROFS
	}
	if h, ok := fh.(*handle); ok {
		if errno := setattrFd(h.fd, in, 0); errno != 0 {
			return errno
		}
		return h.Getattr(ctx, out)
	}
	return n.withSelf(func(fd int) syscall.Errno {
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			return fs.ToErrno(err)
		}
		if t := st.Mode & unix.S_IFMT; t != unix.S_IFREG && t != unix.S_IFDIR {
			return syscall.EPERM
		}
		if errno := setattrFd(fd, in, 0); errno != 0 {
			return errno
		}
		if err := unix.Fstat(fd, &st); err != nil {
			return fs.ToErrno(err)
		}
		fillAttr(&out.Attr, &st, true)
		return 0
	})
}

func (n *treeNode) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	g := n.g
	if !g.Writable && wantsWrite(flags) {
		return nil, 0, syscall.EROFS
	}
	rel, errno := n.rel()
	if errno != 0 {
		return nil, 0, errno
	}
	g.mu.RLock()
	if g.revoked.Load() {
		g.mu.RUnlock()
		return nil, 0, syscall.ENOENT
	}
	fd, err := openBeneath(g.dirfd, rel, openFlags(flags), 0)
	g.mu.RUnlock()
	if err != nil {
		return nil, 0, fs.ToErrno(err)
	}
	var st unix.Stat_t
	if errno := checkRegular(fd, &st); errno != 0 {
		return nil, 0, errno
	}
	fuseFlags := openOutFlags(flags)
	if n.keep(&st) {
		fuseFlags |= fuse.FOPEN_KEEP_CACHE
	}
	return newHandle(fd, g, &n.cacheState, flags), fuseFlags, 0
}

func (n *treeNode) Create(ctx context.Context, name string, flags, mode uint32, out *fuse.EntryOut) (*fs.Inode, fs.FileHandle, uint32, syscall.Errno) {
	if !n.g.Writable {
		return nil, nil, 0, syscall.EROFS
	}
	if !validName(name) {
		return nil, nil, 0, syscall.EINVAL
	}
	if errno := n.g.takeEntry(name); errno != 0 {
		return nil, nil, 0, errno
	}
	var fd int
	var st unix.Stat_t
	errno := n.withDir(func(dfd int) syscall.Errno {
		var err error
		fd, err = unix.Openat(dfd, name, openFlags(flags)|unix.O_CREAT|int(flags&unix.O_EXCL), newFileMode(mode))
		if err != nil {
			return fs.ToErrno(err)
		}
		return checkRegular(fd, &st)
	})
	if errno != 0 {
		return nil, nil, 0, errno
	}
	in := n.child(ctx, &st, out)
	c := in.Operations().(*treeNode)
	c.keep(&st)
	return in, newHandle(fd, n.g, &c.cacheState, flags), 0, 0
}

func (n *treeNode) Mkdir(ctx context.Context, name string, mode uint32, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	if !n.g.Writable {
		return nil, syscall.EROFS
	}
	if !validName(name) {
		return nil, syscall.EINVAL
	}
	if errno := n.g.takeEntry(name); errno != 0 {
		return nil, errno
	}
	var st unix.Stat_t
	errno := n.withDir(func(dfd int) syscall.Errno {
		if err := unix.Mkdirat(dfd, name, newDirMode(mode)); err != nil {
			return fs.ToErrno(err)
		}
		return fs.ToErrno(unix.Fstatat(dfd, name, &st, unix.AT_SYMLINK_NOFOLLOW))
	})
	if errno != 0 {
		return nil, errno
	}
	return n.child(ctx, &st, out), 0
}

func (n *treeNode) Unlink(ctx context.Context, name string) syscall.Errno {
	if !n.g.Writable {
		return syscall.EROFS
	}
	return n.withDir(func(dfd int) syscall.Errno { return fs.ToErrno(unix.Unlinkat(dfd, name, 0)) })
}

func (n *treeNode) Rmdir(ctx context.Context, name string) syscall.Errno {
	if !n.g.Writable {
		return syscall.EROFS
	}
	return n.withDir(func(dfd int) syscall.Errno { return fs.ToErrno(unix.Unlinkat(dfd, name, unix.AT_REMOVEDIR)) })
}

func (n *treeNode) Rename(ctx context.Context, name string, newParent fs.InodeEmbedder, newName string, flags uint32) syscall.Errno {
	if !n.g.Writable {
		return syscall.EROFS
	}
	np, ok := newParent.(*treeNode)
	if !ok || np.g != n.g {
		return syscall.EXDEV
	}
	if !validName(newName) {
		return syscall.EINVAL
	}
	return n.withDir(func(dfd int) syscall.Errno {
		rel, errno := np.rel()
		if errno != 0 {
			return errno
		}
		ndfd := n.g.dirfd
		if rel != "." {
			fd, err := openBeneath(n.g.dirfd, rel, unix.O_PATH|unix.O_DIRECTORY, 0)
			if err != nil {
				return fs.ToErrno(err)
			}
			defer unix.Close(fd)
			ndfd = fd
		}
		if flags&unix.RENAME_EXCHANGE == 0 {
			// A save by rename never widens the file it replaces (mode.go).
			if errno := narrowOnto(dfd, name, ndfd, newName); errno != 0 {
				return errno
			}
		}
		return fs.ToErrno(unix.Renameat2(dfd, name, ndfd, newName, uint(flags)))
	})
}

func (n *treeNode) Symlink(ctx context.Context, target, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	return nil, n.g.refusal()
}

func (n *treeNode) Link(ctx context.Context, target fs.InodeEmbedder, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	return nil, n.g.refusal()
}

func (n *treeNode) Mknod(ctx context.Context, name string, mode, dev uint32, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	return nil, n.g.refusal()
}

func (n *treeNode) Readlink(ctx context.Context) ([]byte, syscall.Errno) {
	var target []byte
	errno := n.withSelf(func(fd int) syscall.Errno {
		buf := make([]byte, unix.PathMax)
		// An empty path reads the link that the O_PATH descriptor names.
		m, err := unix.Readlinkat(fd, "", buf)
		if err != nil {
			return fs.ToErrno(err)
		}
		target = buf[:m]
		return 0
	})
	return target, errno
}

func (n *treeNode) Access(ctx context.Context, mask uint32) syscall.Errno { return n.g.access(mask) }

func (n *treeNode) Statfs(ctx context.Context, out *fuse.StatfsOut) syscall.Errno {
	return n.g.statfs(out)
}
