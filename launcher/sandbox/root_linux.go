package sandbox

// IMPORTANT: this code runs in the init stage before seccomp, with the new
// user namespace's capabilities. Host paths are reached only as
// /oldroot/<path>, and /oldroot is detached before the application starts.

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

const (
	stage   = "/tmp" // any existing folder: the tmpfs on it is private to this mount namespace
	oldroot = "/oldroot"
	newroot = "/newroot"
)

// etcEntries are the host /etc entries a desktop application needs: dynamic
// linking, fonts, locales, time zone, TLS certificates, GTK and MIME settings.
// Nothing else of /etc is visible (no shadow, ssh, NetworkManager, cups, ...).
var etcEntries = []string{
	"ld.so.cache", "ld.so.conf", "ld.so.conf.d", "alternatives",
	"fonts", "locale.alias", "locale.conf", "default/locale", "localtime", "timezone",
	"ssl", "ca-certificates", "ca-certificates.conf", "pki", "crypto-policies", "gnutls",
	"gtk-2.0", "gtk-3.0", "gtk-4.0", "xdg", "dconf", "mime.types", "mailcap",
	"nsswitch.conf", "host.conf", "gai.conf", "services", "protocols",
	"os-release", "lsb-release", "debian_version", "shells", "inputrc", "bash.bashrc", "profile", "environment",
	"pulse", "vulkan", "drirc", "glvnd", "X11/xkb", "X11/Xresources",
	"python3", "python3.11", "python3.12", "perl", "magic",
	"sgml", "xml", "papersize", "libpaper.d", "ImageMagick-6", "gimp", "libreoffice", "vim",
}

// EtcEntries lists the host /etc entries a sandbox sees (for the benchmark,
// which gives bubblewrap the same mounts).
func EtcEntries() []string { return append([]string(nil), etcEntries...) }

// buildRoot builds the sandbox's file system and pivots into it.
func buildRoot(spec *Spec) error {
	// Nothing mounted here may propagate back to the host.
	if err := unix.Mount("", "/", "", unix.MS_SLAVE|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("cannot make / a slave mount: %w", err)
	}
	if err := mountTmpfs(stage, 0o755, 0); err != nil {
		return err
	}
	for _, d := range []string{stage + oldroot, stage + newroot} {
		if err := os.Mkdir(d, 0o755); err != nil {
			return err
		}
	}
	if err := unix.PivotRoot(stage, stage+oldroot); err != nil {
		return fmt.Errorf("cannot pivot into the staging root: %w", err)
	}
	if err := os.Chdir("/"); err != nil {
		return err
	}
	if err := mountTmpfs(newroot, 0o755, 0); err != nil {
		return err
	}
	var err error
	if hostMounts, err = readMounts(oldroot + "/proc/self/mountinfo"); err != nil {
		return fmt.Errorf("cannot read the host's mounts: %w", err)
	}
	r := &rootBuilder{spec: spec}
	steps := []func() error{r.usr, r.etc, r.proc, r.dev, r.sys, r.private, r.binds}
	for _, s := range steps {
		if err := s(); err != nil {
			return err
		}
	}
	// The host's root goes away for good: from here on nothing in this
	// mount namespace can name a host path that was not bound in.
	if err := unix.Unmount(oldroot, unix.MNT_DETACH); err != nil {
		return fmt.Errorf("cannot detach the host root: %w", err)
	}
	if err := os.Chdir(newroot); err != nil {
		return err
	}
	if err := unix.PivotRoot(".", "."); err != nil {
		return fmt.Errorf("cannot pivot into the sandbox root: %w", err)
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("cannot detach the staging root: %w", err)
	}
	if err := os.Chdir("/"); err != nil {
		return err
	}
	// The root folder itself is read-only: only the tmpfs mounts below it
	// (/tmp, $HOME, /run/user/UID, /dev/shm) take writes.
	if err := unix.Mount("", "/", "", unix.MS_REMOUNT|unix.MS_BIND|unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV, ""); err != nil {
		return fmt.Errorf("cannot make the root read-only: %w", err)
	}
	return nil
}

type rootBuilder struct {
	spec *Spec
}

func host(p string) string { return oldroot + p }
func in(p string) string   { return newroot + p }

// copyLink recreates a host symbolic link inside; it reports whether p was one.
func copyLink(hostPath, dst string) (bool, error) {
	target, err := os.Readlink(hostPath)
	if err != nil {
		return false, nil
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return true, err
	}
	return true, os.Symlink(target, dst)
}

func (r *rootBuilder) roBind(hostPath, dst string) error {
	if err := ensureTarget(hostPath, dst); err != nil {
		return err
	}
	return bindMount(hostPath, dst, false, false)
}

func (r *rootBuilder) usr() error {
	if err := r.roBind(host("/usr"), in("/usr")); err != nil {
		return err
	}
	// Merged /usr: /bin, /lib, ... are links; on an unmerged system they
	// are folders, bound read-only like /usr.
	for _, d := range []string{"/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"} {
		isLink, err := copyLink(host(d), in(d))
		if err != nil {
			return err
		}
		if isLink {
			continue
		}
		if st, err := os.Stat(host(d)); err == nil && st.IsDir() {
			if err := r.roBind(host(d), in(d)); err != nil {
				return err
			}
		}
	}
	return nil
}

func (r *rootBuilder) etc() error {
	if err := os.MkdirAll(in("/etc"), 0o755); err != nil {
		return err
	}
	for _, e := range etcEntries {
		hp := host("/etc/" + e)
		if _, err := os.Lstat(hp); err != nil {
			continue
		}
		if isLink, err := copyLink(hp, in("/etc/"+e)); err != nil {
			return err
		} else if isLink {
			continue
		}
		if err := r.roBind(hp, in("/etc/"+e)); err != nil {
			return err
		}
	}
	s := r.spec
	// Only the user and nobody: the host's account list is not the
	// sandbox's business.
	home := s.Home
	files := map[string]string{
		"passwd": fmt.Sprintf("%s:x:%d:%d:%s:%s:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n", s.User, s.UID, s.GID, s.User, home),
		"group":  fmt.Sprintf("%s:x:%d:\nnogroup:x:65534:\n", s.User, s.GID),
		// A fresh machine id per sandbox: the host's would link this
		// application's traces to every other on the machine.
		"machine-id": s.MachineID + "\n",
		"hostname":   s.Hostname + "\n",
		"hosts":      fmt.Sprintf("127.0.0.1\tlocalhost %s\n::1\tlocalhost ip6-localhost ip6-loopback\n", s.Hostname),
	}
	if s.ShareNet {
		if _, err := os.Stat(host("/etc/resolv.conf")); err == nil {
			if err := r.roBind(host("/etc/resolv.conf"), in("/etc/resolv.conf")); err != nil {
				return err
			}
		}
	}
	for name, content := range files {
		if err := os.WriteFile(in("/etc/"+name), []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func (r *rootBuilder) proc() error {
	if err := os.MkdirAll(in("/proc"), 0o555); err != nil {
		return err
	}
	// hidepid=invisible (Linux 5.8): a process the application may not
	// ptrace is not listed at all. That hides init (non-dumpable) and the
	// host-view helper of native grants, whose /proc/PID/mountinfo (readable
	// by anyone, no ptrace check) would list the host's mounts.
	if err := unix.Mount("proc", in("/proc"), "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "hidepid=invisible"); err != nil {
		return fmt.Errorf("cannot mount /proc: %w", err)
	}
	// Kernel knobs stay read-only, as bubblewrap does (cover_proc_dirs).
	for _, d := range []string{"/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus"} {
		if _, err := os.Stat(in(d)); err != nil {
			continue
		}
		if err := bindMount(in(d), in(d), false, false); err != nil {
			return err
		}
	}
	// A fresh boot_id: the host's identifies this boot of this machine.
	// The file lives on the staging tmpfs, which the mount keeps alive.
	if err := os.WriteFile("/boot_id", []byte(r.spec.BootID+"\n"), 0o444); err != nil {
		return err
	}
	if err := bindMount("/boot_id", in("/proc/sys/kernel/random/boot_id"), false, false); err != nil {
		return err
	}
	// The kernel command line carries root=UUID=..., an identifier of the
	// installation that outlives any fresh machine-id.
	if err := os.WriteFile("/cmdline", []byte("BOOT_IMAGE=/vmlinuz ro quiet\n"), 0o444); err != nil {
		return err
	}
	return bindMount("/cmdline", in("/proc/cmdline"), false, false)
}

// devNodes are the only devices: no disks, console, input, sound or GPU.
var devNodes = []string{"null", "zero", "full", "random", "urandom", "tty"}

func (r *rootBuilder) dev() error {
	if err := mountTmpfs(in("/dev"), 0o755, unix.MS_NOEXEC); err != nil {
		return err
	}
	for _, n := range devNodes {
		if err := ensureFile(in("/dev/" + n)); err != nil {
			return err
		}
		if err := bindMount(host("/dev/"+n), in("/dev/"+n), true, true); err != nil {
			return err
		}
	}
	if err := os.Mkdir(in("/dev/pts"), 0o755); err != nil {
		return err
	}
	// A new devpts instance: the host's terminals are not in it.
	if err := unix.Mount("devpts", in("/dev/pts"), "devpts", unix.MS_NOSUID|unix.MS_NOEXEC, "newinstance,ptmxmode=0666,mode=620"); err != nil {
		return fmt.Errorf("cannot mount /dev/pts: %w", err)
	}
	links := map[string]string{"ptmx": "pts/ptmx", "fd": "/proc/self/fd", "stdin": "/proc/self/fd/0", "stdout": "/proc/self/fd/1", "stderr": "/proc/self/fd/2"}
	for n, t := range links {
		if err := os.Symlink(t, in("/dev/"+n)); err != nil {
			return err
		}
	}
	return mountTmpfs(in("/dev/shm"), 0o777|os.ModeSticky, 0)
}

func ensureFile(p string) error {
	f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	return f.Close()
}

// sys gives an empty read-only /sys but for the CPU topology, which runtimes
// read to size thread pools. DMI (/sys/class/dmi: serial numbers), network
// interfaces (MAC addresses), block devices (disk serials) and firmware are
// not there at all.
func (r *rootBuilder) sys() error {
	if err := mountTmpfs(in("/sys"), 0o755, unix.MS_NOEXEC); err != nil {
		return err
	}
	if _, err := os.Stat(host("/sys/devices/system/cpu")); err == nil {
		if err := r.roBind(host("/sys/devices/system/cpu"), in("/sys/devices/system/cpu")); err != nil {
			return err
		}
	}
	return unix.Mount("", in("/sys"), "", unix.MS_REMOUNT|unix.MS_BIND|unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "")
}

// private creates the amnesic, writable places: /tmp, $HOME, /run/user/UID.
func (r *rootBuilder) private() error {
	s := r.spec
	runtimeDir := "/run/user/" + strconv.Itoa(s.UID)
	for _, t := range []struct {
		path string
		mode os.FileMode
	}{
		{"/tmp", 0o777 | os.ModeSticky},
		{"/run", 0o755},
		{runtimeDir, 0o700},
		{s.Home, 0o700},
	} {
		if err := mountTmpfs(in(t.path), t.mode, 0); err != nil {
			return err
		}
	}
	// /run itself read-only: its tmpfs belongs to the user, and a writable
	// /run would let the application rename /run/user away from under the
	// paths init later mounts onto or unmounts (native grants).
	if err := remount(in("/run"), false, false); err != nil {
		return err
	}
	if err := os.MkdirAll(in("/var/lib/dbus"), 0o755); err != nil {
		return err
	}
	for n, t := range map[string]string{"/var/tmp": "/tmp", "/var/lib/dbus/machine-id": "/etc/machine-id", "/var/run": "/run"} {
		if err := os.Symlink(t, in(n)); err != nil {
			return err
		}
	}
	if _, err := os.Stat(host("/var/cache/fontconfig")); err == nil {
		if err := r.roBind(host("/var/cache/fontconfig"), in("/var/cache/fontconfig")); err != nil {
			return err
		}
	}
	for _, d := range s.Dirs {
		if err := os.MkdirAll(in(d), 0o700); err != nil {
			return err
		}
	}
	return nil
}

// binds applies the Spec's binds: persistent folders, exposed paths, granted
// documents, display and sound sockets.
//
// The launcher resolved every source's symlinks. Some sources sit in folders
// a sandbox can write (a persistent folder of the same profile, an exposed
// one): a symlink planted there since would redirect the bind, so each source
// is opened without following any symlink, and bound from that descriptor.
func (r *rootBuilder) binds() error {
	for _, b := range r.spec.Binds {
		if strings.Contains(b.Dst, "..") || !filepath.IsAbs(b.Dst) {
			return fmt.Errorf("bad sandbox path %q", b.Dst)
		}
		if err := r.bindOne(b); err != nil {
			return err
		}
	}
	return nil
}

func (r *rootBuilder) bindOne(b Bind) error {
	src := host(b.Src)
	how := unix.OpenHow{Flags: unix.O_PATH | unix.O_CLOEXEC, Resolve: unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS}
	fd, err := unix.Openat2(unix.AT_FDCWD, src, &how)
	if err != nil {
		if b.Optional && (err == unix.ENOENT || b.Exact && err == unix.ELOOP) {
			return nil
		}
		return fmt.Errorf("cannot share %s: %w", b.Src, err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return fmt.Errorf("cannot share %s: %w", b.Src, err)
	}
	dst := in(b.Dst)
	// The destination may lie under an earlier read-write bind (a
	// persistent folder), where the sandbox could have planted a symlink
	// pointing back into the host's tree (still at /oldroot here): the
	// existing part of the path is walked without following any.
	if err := noSymlinks(dst); err != nil {
		return fmt.Errorf("cannot bind onto %s: %w", b.Dst, err)
	}
	if err := ensureTargetKind(st.Mode&unix.S_IFMT == unix.S_IFDIR, dst); err != nil {
		return fmt.Errorf("cannot create %s: %w", b.Dst, err)
	}
	// The host's /proc (still at /oldroot/proc) names this process's
	// descriptors: mounting its magic link binds exactly what was opened.
	return bindMountFrom(fmt.Sprintf("%s/proc/self/fd/%d", oldroot, fd), src, dst, b.RW, b.Dev)
}

// noSymlinks fails when the longest existing prefix of path (below the new
// root) goes through a symbolic link, the last component included.
func noSymlinks(path string) error {
	how := unix.OpenHow{Flags: unix.O_PATH | unix.O_CLOEXEC | unix.O_NOFOLLOW, Resolve: unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS}
	for p := path; p != newroot && p != "/" && p != "."; p = filepath.Dir(p) {
		fd, err := unix.Openat2(unix.AT_FDCWD, p, &how)
		if err == nil {
			unix.Close(fd)
			return nil
		}
		if err != unix.ENOENT {
			return err
		}
	}
	return nil
}
