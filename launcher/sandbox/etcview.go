package sandbox

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// The sandbox's /etc is one read-only bind of a folder prepared once per
// user session, $XDG_RUNTIME_DIR/airlock/etc/v-HASH, instead of one bind per
// host entry (about 45 mounts, and a mount is the dearest step of a launch:
// tests/bench/RESULTS.md, Launch). The folder holds copies of the host's
// etcEntries (symbolic links as links, files as copies, folders walked),
// the sandbox's passwd and group (the same for every sandbox of the user),
// and, for what differs per sandbox, links into /run/airlock/etc, where init
// writes this sandbox's machine-id, hostname and hosts (and binds the host's
// resolv.conf with net = host) as plain files on /run's tmpfs: no mount.
// Flatpak links /etc/resolv.conf, hosts and localtime into /run/host/monitor
// the same way.
//
// Copies, not binds, because a bind of a host file shows the host file of
// the moment anyway: a file replaced by rename (package upgrades, editors,
// NetworkManager's resolv.conf, systemd-resolved's stub file) is a new inode
// that a running sandbox's bind never sees. A copy is as fresh as the view,
// and the view is checked at every launch against the stamps (inode, size,
// modification and change times) of every host file and folder it copied,
// and of every entry it found missing; any difference builds a new view for
// this and later sandboxes (running ones keep the one they have).
// Symbolic links inside a folder need no stamp of their own: a link cannot
// be changed in place, only replaced, which changes its folder's times.

const (
	etcViewVersion = "airlock-etc-view 1"
	// etcRunDir is where init writes the per-sandbox files the view links to.
	etcRunDir = "/run/airlock/etc"
	// etcViewKeep: a view replaced by a newer one is removed once this long
	// has passed and no running sandbox's record names it (a launcher
	// between Prepare and its record is never that slow).
	etcViewKeep = 10 * time.Minute
)

// etcLinks are the /etc names whose content is per sandbox.
var etcLinks = []string{"machine-id", "hostname", "hosts", "resolv.conf"}

// etcViewRoot is $XDG_RUNTIME_DIR/airlock/etc, symlinks resolved (init opens
// the view without following any), created private to the user.
func etcViewRoot() (string, error) {
	rt, err := RuntimeDir()
	if err != nil {
		return "", err
	}
	if rt, err = filepath.EvalSymlinks(rt); err != nil {
		return "", err
	}
	root := filepath.Join(rt, "airlock", "etc")
	if err := os.MkdirAll(root, 0o700); err != nil {
		return "", err
	}
	if err := privateDir(filepath.Dir(root), 0o700); err != nil {
		return "", err
	}
	return root, privateDir(root, 0o700)
}

// privateDir insists on a folder (not a link) of the caller's that nobody
// else may write: the view becomes every sandbox's /etc.
func privateDir(p string, perm os.FileMode) error {
	st, err := os.Lstat(p)
	if err != nil {
		return err
	}
	if !st.IsDir() || fileUID(st) != os.Getuid() || st.Mode().Perm()&0o022 != 0 || (perm != 0 && st.Mode().Perm() != perm) {
		return fmt.Errorf("%s is not a private folder of uid %d", p, os.Getuid())
	}
	return nil
}

// etcAccountFiles are the generated passwd and group of the user.
func etcAccountFiles(a Account) [][2]string {
	return [][2]string{
		// Only the user and nobody: the host's account list is not the
		// sandbox's business.
		{"passwd", fmt.Sprintf("%s:x:%d:%d:%s:%s:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n", a.Name, a.UID, a.GID, a.Name, a.Home)},
		{"group", fmt.Sprintf("%s:x:%d:\nnogroup:x:65534:\n", a.Name, a.GID)},
	}
}

// stamp is what changes when a host path changes: "-" when it is missing.
func stamp(path string) string {
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		return "-"
	}
	return fmt.Sprintf("%d:%d:%o:%d:%d.%d:%d.%d", st.Dev, st.Ino, st.Mode, st.Size, st.Mtim.Sec, st.Mtim.Nsec, st.Ctim.Sec, st.Ctim.Nsec)
}

// currentEtcView returns the view for the host's /etc as it is now, built
// when there is none or the host changed since.
func currentEtcView(a Account) (string, error) {
	root, err := etcViewRoot()
	if err != nil {
		return "", err
	}
	if dir, ok := validEtcView(root, a); ok {
		return dir, nil
	}
	return buildEtcView(root, a)
}

// validEtcView reads root/current: its first line names the view and the
// account it was built for, each other line is a host path and its stamp.
func validEtcView(root string, a Account) (string, bool) {
	f, err := os.Open(filepath.Join(root, "current"))
	if err != nil {
		return "", false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if !sc.Scan() {
		return "", false
	}
	head := strings.Split(sc.Text(), "\t")
	if len(head) != 3 || head[0] != etcViewVersion || head[2] != accountSum(a) || !strings.HasPrefix(head[1], "v-") || strings.Contains(head[1], "/") {
		return "", false
	}
	for sc.Scan() {
		path, want, ok := strings.Cut(sc.Text(), "\t")
		if !ok || stamp(path) != want {
			return "", false
		}
	}
	if sc.Err() != nil {
		return "", false
	}
	dir := filepath.Join(root, head[1])
	if privateDir(dir, 0) != nil {
		return "", false
	}
	return dir, true
}

func accountSum(a Account) string {
	h := sha256.New()
	for _, f := range etcAccountFiles(a) {
		io.WriteString(h, f[0]+"\x00"+f[1]+"\x00")
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// buildEtcView copies the host's entries into a new view, names it by its
// stamps, and makes it current. Two launchers building at once build the
// same view: the second rename finds it and drops its own copy.
func buildEtcView(root string, a Account) (string, error) {
	tmp, err := os.MkdirTemp(root, "build-")
	if err != nil {
		return "", err
	}
	defer removeTree(tmp)
	var stamps strings.Builder
	var dirs []string
	for _, e := range etcEntries {
		host := "/etc/" + e
		st, err := os.Lstat(host)
		if err != nil || st.Mode()&os.ModeSymlink != 0 {
			// Missing, or a link (replaced, never changed in place):
			// stamped here; files and folders by copyEtcEntry.
			fmt.Fprintf(&stamps, "%s\t%s\n", host, stamp(host))
		}
		if err != nil {
			continue
		}
		dst := filepath.Join(tmp, e)
		if strings.Contains(e, "/") {
			// default/locale, X11/xkb: the folders on the way, empty but
			// for the entry.
			for d := filepath.Dir(dst); d != tmp; d = filepath.Dir(d) {
				dirs = append(dirs, d)
			}
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				return "", err
			}
		}
		if err := copyEtcEntry(host, dst, st, &stamps, &dirs); err != nil {
			return "", fmt.Errorf("cannot copy %s: %w", host, err)
		}
	}
	for _, f := range etcAccountFiles(a) {
		if err := os.WriteFile(filepath.Join(tmp, f[0]), []byte(f[1]), 0o444); err != nil {
			return "", err
		}
	}
	for _, l := range etcLinks {
		if err := os.Symlink(etcRunDir+"/"+l, filepath.Join(tmp, l)); err != nil {
			return "", err
		}
	}
	// Read-only folders: even the user's own mistakes do not change a
	// view that sandboxes use.
	for i := len(dirs) - 1; i >= 0; i-- {
		if err := os.Chmod(dirs[i], 0o555); err != nil {
			return "", err
		}
	}
	if err := os.Chmod(tmp, 0o555); err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(stamps.String() + accountSum(a)))
	name := "v-" + hex.EncodeToString(sum[:])[:16]
	dir := filepath.Join(root, name)
	if err := os.Rename(tmp, dir); err != nil {
		if !errors.Is(err, unix.EEXIST) && !errors.Is(err, unix.ENOTEMPTY) {
			return "", err
		}
	}
	cur := filepath.Join(root, "current")
	head := etcViewVersion + "\t" + name + "\t" + accountSum(a) + "\n"
	// Written whole, then renamed: a launcher reading it sees the old list
	// or the new one.
	tmpCur := cur + ".tmp" + RandomHex(4)
	if err := os.WriteFile(tmpCur, []byte(head+stamps.String()), 0o600); err != nil {
		return "", err
	}
	if err := os.Rename(tmpCur, cur); err != nil {
		os.Remove(tmpCur)
		return "", err
	}
	pruneEtcViews(root, name)
	return dir, privateDir(dir, 0)
}

// copyEtcEntry copies one host path: a link as a link, a file's content
// (mode kept but for write), a folder's entries. What the user cannot read
// (/etc/ssl/private) or what is neither is left out.
func copyEtcEntry(host, dst string, st os.FileInfo, stamps *strings.Builder, dirs *[]string) error {
	switch {
	case st.Mode()&os.ModeSymlink != 0:
		t, err := os.Readlink(host)
		if err != nil {
			return err
		}
		return os.Symlink(t, dst)
	case st.Mode().IsRegular():
		fmt.Fprintf(stamps, "%s\t%s\n", host, stamp(host))
		src, err := os.Open(host)
		if errors.Is(err, os.ErrPermission) {
			return nil
		}
		if err != nil {
			return err
		}
		defer src.Close()
		out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, st.Mode().Perm()&0o555|0o444)
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, src); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	case st.IsDir():
		fmt.Fprintf(stamps, "%s\t%s\n", host, stamp(host))
		ents, err := os.ReadDir(host)
		if errors.Is(err, os.ErrPermission) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := os.Mkdir(dst, 0o755); err != nil {
			return err
		}
		*dirs = append(*dirs, dst)
		for _, e := range ents {
			info, err := e.Info()
			if err != nil {
				continue // gone meanwhile: its folder's stamp says so
			}
			if err := copyEtcEntry(filepath.Join(host, e.Name()), filepath.Join(dst, e.Name()), info, stamps, dirs); err != nil {
				return err
			}
		}
	}
	return nil
}

// pruneEtcViews removes the views other than keep that no running
// sandbox's record names and that were replaced long enough ago (their
// time is set when first found replaced).
func pruneEtcViews(root, keep string) {
	ents, err := os.ReadDir(root)
	if err != nil {
		return
	}
	inUse := map[string]bool{keep: true}
	if recs, err := List(); err == nil {
		for _, r := range recs {
			inUse[r.EtcView] = true
		}
	}
	for _, e := range ents {
		name := e.Name()
		p := filepath.Join(root, name)
		switch {
		case strings.HasPrefix(name, "build-"):
			// A launcher that died while building.
			if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > etcViewKeep {
				removeTree(p)
			}
		case strings.HasSuffix(name, ".replaced"):
			if _, err := os.Lstat(strings.TrimSuffix(p, ".replaced")); errors.Is(err, os.ErrNotExist) {
				os.Remove(p)
			}
		case !strings.HasPrefix(name, "v-") || inUse[name]:
		case replacedLongAgo(p):
			removeTree(p)
			os.Remove(p + ".replaced")
		}
	}
}

// replacedLongAgo says whether view p was found replaced more than
// etcViewKeep ago; the first time, it marks it with p.replaced, whose time
// says since when.
func replacedLongAgo(p string) bool {
	st, err := os.Lstat(p + ".replaced")
	if err != nil {
		os.WriteFile(p+".replaced", nil, 0o600)
		return false
	}
	return time.Since(st.ModTime()) > etcViewKeep
}

// removeTree removes a view: its folders are read-only, so they are made
// writable first (the view is the user's own).
func removeTree(p string) {
	filepath.WalkDir(p, func(path string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			os.Chmod(path, 0o700)
		}
		return nil
	})
	os.RemoveAll(p)
}

// etcViewName is the view's name in a record ("" when p is not a view).
func etcViewName(p string) string {
	if b := filepath.Base(p); strings.HasPrefix(b, "v-") {
		return b
	}
	return ""
}
