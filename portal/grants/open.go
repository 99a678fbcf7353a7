package grants

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// picked is a user's pick, resolved and open.
type picked struct {
	hostPath string // resolved folder + name
	name     string
	dir      bool
	// anchor is an O_PATH descriptor: the folder itself for a folder
	// grant, the folder holding the file for a file grant (the file may
	// not exist yet: Save).
	anchor int
}

// IMPORTANT: this is where a host path becomes a grant; it runs in the
// broker, on the sandbox's behalf, with every right of the user. Everything
// after works on the descriptor opened here (docstore), and nothing
// re-resolves the path (xdg-desktop-portal's document portal does the same:
// open, fstat, hand the descriptor on).
//
// The folders on the way are resolved on the user's behalf (unless strict);
// the file or folder itself must not be a symbolic link: one planted by a
// sandbox in a folder it can write (named like a photo, pointing at a key)
// would grant what the user never saw. From here on the grant is (resolved
// folder, name), opened without following links.
//
// strict is for grants restored from a persistent profile: the path was
// resolved when the user granted it, so a symbolic link on it now was put
// there since, maybe by the sandbox itself in a folder it can write;
// restoring through it would grant whatever it points to, with no user
// action.
func open(hostPath string, mode Mode, strict bool) (picked, error) {
	fail := func(format string, args ...any) (picked, error) {
		return picked{}, fmt.Errorf("cannot grant %q: "+format, append([]any{hostPath}, args...)...)
	}
	if !filepath.IsAbs(hostPath) || strings.ContainsRune(hostPath, 0) {
		return fail("not an absolute path")
	}
	clean := filepath.Clean(hostPath)
	name := filepath.Base(clean)
	if !validName(name) {
		return fail("not the name of a file or folder")
	}
	parent := filepath.Dir(clean)
	if !strict {
		var err error
		if parent, err = filepath.EvalSymlinks(parent); err != nil {
			return fail("%w", err)
		}
	}
	// The folder was resolved just now (or when the grant was first
	// made): a symbolic link on its way can only have been swapped in
	// since, so none is followed.
	how := unix.OpenHow{Flags: unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC, Resolve: unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS}
	pfd, err := unix.Openat2(unix.AT_FDCWD, parent, &how)
	if errors.Is(err, unix.ELOOP) {
		return fail("it is now reached through a symbolic link")
	} else if err != nil {
		return fail("cannot open its folder: %w", err)
	}
	p := picked{hostPath: filepath.Join(parent, name), name: name, anchor: pfd}
	var st unix.Stat_t
	err = unix.Fstatat(pfd, name, &st, unix.AT_SYMLINK_NOFOLLOW)
	switch {
	case errors.Is(err, unix.ENOENT) && mode == Save:
		return p, nil // created by the application's first write
	case err != nil:
		unix.Close(pfd)
		return fail("%w", err)
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
		return p, nil
	case unix.S_IFLNK:
		unix.Close(pfd)
		return fail("it is a symbolic link (grant its target)")
	case unix.S_IFDIR:
		if mode == Save {
			unix.Close(pfd)
			return fail("it is a folder, not a file to save")
		}
		// The folder itself, below its parent's descriptor, not
		// followed; fstat then says what was opened, whatever was
		// swapped in since the check above.
		how := unix.OpenHow{Flags: unix.O_PATH | unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_CLOEXEC, Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS}
		dfd, err := unix.Openat2(pfd, name, &how)
		unix.Close(pfd)
		if err != nil {
			return fail("cannot open it: %w", err)
		}
		if err := unix.Fstat(dfd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFDIR {
			unix.Close(dfd)
			return fail("it changed while it was granted")
		}
		p.anchor, p.dir = dfd, true
		return p, nil
	}
	unix.Close(pfd)
	return fail("not a regular file or folder")
}

func validName(name string) bool {
	return name != "" && name != "." && name != ".." && name != "/" && len(name) <= 255 && !strings.ContainsAny(name, "/\x00")
}

func closeAnchor(p picked) { unix.Close(p.anchor) }
