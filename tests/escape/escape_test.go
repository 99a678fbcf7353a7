// Package escape_test tries to break out of an Airlock sandbox the ways
// sandboxes have been broken out of before. The probe (./probe) runs inside
// `airlock run` as an ordinary user and makes each attempt; this file names
// every attempt after its CVE or source, says what answer proves the sandbox
// held (the errno of the filter or of the wall in question, not merely "it
// failed"), and checks that the probe, run on the host without a sandbox,
// reports the same attempts as escapes: a check that cannot fail proves nothing.
package escape_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"airlock/tests/harness"
)

// attempt is one row of the table: the probe reports a line of that name.
type attempt struct {
	name string
	// errno is the probe's first call's answer inside the sandbox ("" when
	// the attempt is not a system call: a file's contents, a listing).
	errno string
	// unconfined: the same probe run on the host, outside any sandbox, as
	// the same user, must report this attempt unsafe. False only where the
	// host itself lacks what is tried (said in the comment).
	unconfined bool
	// needs names a host helper without which the entry is skipped.
	needs string
}

// Errno strings as the probe prints them.
const (
	eperm  = "EPERM"
	enosys = "ENOSYS"
	enoent = "ENOENT"
	eacces = "EACCES"
	erofs  = "EROFS"
	noafs  = "EAFNOSUPPORT"
	refuse = "ECONNREFUSED"
)

func attempts() []attempt {
	// Kernels without CONFIG_MAGIC_SYSRQ have no /proc/sysrq-trigger at all.
	sysrq, sysrqHost := eacces, true
	if _, err := os.Stat("/proc/sysrq-trigger"); err != nil {
		sysrq, sysrqHost = enoent, false
	}
	return []attempt{
		// --- terminals: launcher/seccomp ioctl rule, init's Setsid ---
		// CVE-2017-5226 (bubblewrap): TIOCSTI pushes keystrokes into the
		// terminal's input queue, so a sandboxed process typed commands into
		// the user's shell. Tried on a pty that is the caller's controlling
		// terminal, where the kernel allows it (legacy_tiocsti=1): EPERM is
		// the filter's answer.
		{"CVE-2017-5226/TIOCSTI", eperm, true, ""},
		// CVE-2019-10063 (Flatpak): the kernel truncates ioctl's request to
		// 32 bits, so TIOCSTI|1<<32 bypassed a filter comparing 64 bits.
		{"CVE-2019-10063/TIOCSTI-high-bits", eperm, true, ""},
		// The same through /dev/tty.
		{"CVE-2017-5226/TIOCSTI-dev-tty", eperm, true, ""},
		// CVE-2023-28100 (Flatpak): TIOCLINUX pastes the console selection
		// as input. On a pty the kernel says ENOTTY; the filter EPERM first.
		{"CVE-2023-28100/TIOCLINUX", eperm, true, ""},
		// The CVE-2017-5226 scenario itself: stdin is the terminal airlock
		// was started from (a host pty, airlock's controlling terminal).
		// The test also reads the pty: nothing may have been injected.
		{"CVE-2017-5226/TIOCSTI-host-stdin", eperm, true, ""},
		// bwrap --new-session, the CVE-2017-5226 fix: no controlling tty.
		{"CVE-2017-5226/new-session", "ENXIO", true, ""},

		// --- new mount API: ENOSYS so that libmount falls back to mount(2) ---
		// CVE-2021-41133 (Flatpak): these calls were missing from the filter
		// and let an app remount its sandbox. Unfiltered they say EPERM or
		// EBADF; ENOSYS is the filter.
		{"CVE-2021-41133/fsopen", enosys, true, ""},
		{"CVE-2021-41133/fsmount", enosys, true, ""},
		{"CVE-2021-41133/open_tree", enosys, true, ""},
		{"CVE-2021-41133/move_mount", enosys, true, ""},
		{"CVE-2021-41133/fspick", enosys, true, ""},
		{"CVE-2021-41133/mount_setattr", enosys, true, ""},
		// CVE-2022-0185: heap overflow in legacy_parse_param via fsconfig.
		{"CVE-2022-0185/fsconfig", enosys, true, ""},
		// clone3's flags live in memory seccomp cannot read (blocked with
		// the CVE-2021-41133 fix); the kernel would say EINVAL to (NULL, 0).
		{"CVE-2021-41133/clone3", enosys, true, ""},

		// --- namespaces and mounts ---
		// CVE-2022-0185 needed CAP_SYS_ADMIN over a new user namespace: no
		// nested user namespaces, by unshare (in a forked child, where the
		// kernel would allow it) or by clone.
		{"CVE-2022-0185/unshare-CLONE_NEWUSER", eperm, true, ""},
		{"CVE-2022-0185/clone-CLONE_NEWUSER", eperm, true, ""},
		// Flatpak's filter (flatpak-run.c setup_seccomp). Each also makes a
		// call the kernel would reject with EBADF/EFAULT/EINVAL before its
		// capability check, so that EPERM proves the filter rule is there.
		{"flatpak-seccomp/setns", eperm, true, ""},
		{"flatpak-seccomp/mount", eperm, true, ""},
		{"flatpak-seccomp/umount2", eperm, true, ""},
		{"flatpak-seccomp/chroot", eperm, true, ""},
		// pivot_root checks CAP_SYS_ADMIN before anything else: the kernel
		// and the filter both say EPERM (the host run says EPERM too).
		{"flatpak-seccomp/pivot_root", eperm, false, ""},

		// --- kernel attack surface ---
		// CVE-2016-0728: keyring refcount overflow; keyrings are not
		// namespaced, the session keyring is the host user's.
		{"CVE-2016-0728/keyctl", eperm, true, ""},
		{"flatpak-seccomp/add_key", eperm, true, ""},
		{"flatpak-seccomp/request_key", eperm, true, ""}, // kernel: ENOKEY
		// CVE-2013-2094: perf_swevent_init; the filter says ENOSYS.
		{"CVE-2013-2094/perf_event_open", enosys, true, ""},
		// CVE-2021-3490: eBPF verifier; kernel says EFAULT to a bad attr.
		{"CVE-2021-3490/bpf", eperm, true, ""},
		// userfaultfd, the race primitive (seccomp.go); UFFD_USER_MODE_ONLY
		// is open to anyone in the kernel.
		{"seccomp.go/userfaultfd", eperm, true, ""},
		// CVE-2023-2598: io_uring, whose operations seccomp never sees.
		{"CVE-2023-2598/io_uring_setup", enosys, true, ""},
		// ptrace of a sibling of the same uid (allowed by the kernel here;
		// CVE-2019-13272 is the ptrace credential bug class).
		{"CVE-2019-13272/ptrace-sibling", eperm, true, ""},
		{"seccomp.go/process_vm_readv", eperm, true, ""},
		{"seccomp.go/process_vm_writev", eperm, true, ""},
		{"seccomp.go/pidfd_getfd", eperm, true, ""},
		// CVE-2016-9962 (runc): the container's init was ptraceable. The
		// host run attaches to a stand-in process of the same user.
		{"CVE-2016-9962/ptrace-init", eperm, true, ""},
		// Init is non-dumpable: its memory, root and environment are shut.
		{"CVE-2016-9962/proc-1-mem", enoent, true, ""},
		// CVE-2019-5736 (runc): the container rewrote the host runtime
		// through /proc/<runtime>/exe. Init is the host's airlock binary.
		{"CVE-2019-5736/proc-1-exe", enoent, true, ""},
		// Init's grant threads (one sees the host's mounts) are behind
		// init's ptrace access check like init itself.
		{"proc(5)/init-threads-host-view", enoent, false, ""},
		// ... nor through /proc/self/exe: ETXTBSY from the kernel, and the
		// --ro grant the probe runs from must be a read-only mount.
		{"CVE-2019-5736/proc-self-exe-overwrite", "ETXTBSY", true, ""},
		// The airlock binary's host path is not in the sandbox at all.
		{"CVE-2019-5736/launcher-binary-hidden", enoent, true, ""},
		// personality: no ASLR switch-off, no executable-by-default data,
		// no page zero (CVE-2009-1895 kept MMAP_PAGE_ZERO over setuid exec).
		{"personality(2)/ADDR_NO_RANDOMIZE", eperm, true, ""},
		{"personality(2)/READ_IMPLIES_EXEC", eperm, true, ""},
		{"CVE-2009-1895/personality-MMAP_PAGE_ZERO", eperm, true, ""},
		// Socket families with a record: EAFNOSUPPORT, as from a kernel
		// without them. CVE-2017-7308: packet_set_ring (kernel: EPERM).
		{"CVE-2017-7308/AF_PACKET", noafs, true, ""},
		// CVE-2021-26708: vsock races (the host kernel has AF_VSOCK).
		{"CVE-2021-26708/AF_VSOCK", noafs, true, ""},
		// CVE-2020-12351 BleedingTooth, CVE-2019-8912 AF_ALG use-after-free,
		// CVE-2022-1353 af_key leak: this host's kernel lacks those families,
		// so the host run says EAFNOSUPPORT too.
		{"CVE-2020-12351/AF_BLUETOOTH", noafs, false, ""},
		{"CVE-2019-8912/AF_ALG", noafs, false, ""},
		{"CVE-2022-1353/AF_KEY", noafs, false, ""},
		// socketpair(2) is filtered to AF_UNIX; socketpair(AF_INET),
		// EOPNOTSUPP from the kernel, proves the filter answers.
		{"CVE-2021-43267/socketpair-AF_TIPC", noafs, true, ""},
		// "shocker" (Docker 2014): open_by_handle_at reads any inode of a
		// mounted file system; name_to_handle_at is open to anyone.
		{"shocker/open_by_handle_at", eperm, true, ""},
		// The host kernel has neither kexec nor modules (ENOSYS unfiltered).
		{"flatpak-seccomp/kexec_load", eperm, true, ""},
		{"flatpak-seccomp/init_module", eperm, true, ""},
		// sethostname: no CAP_SYS_ADMIN in the sandbox's uts namespace and
		// filtered besides; the kernel checks the capability first, so
		// both walls say EPERM (so does the host run).
		{"flatpak-seccomp/sethostname", eperm, false, ""},

		// --- privileges ---
		// CVE-2021-4034 (pkexec) and CVE-2021-3156 (sudo): setuid binaries
		// give nothing: a setuid-root file granted with --ro runs with our
		// euid (nosuid mount, no_new_privs), and /usr is nosuid.
		{"CVE-2021-4034/setuid-binary", "", true, "root"},
		{"CVE-2021-3156/usr-nosuid", "", true, ""},
		// Capabilities: all five sets zero, for the app and for init.
		{"capabilities(7)/app-all-sets-zero", "", true, ""},
		{"CVE-2016-9962/init-capabilities", "", true, ""},
		{"no_new_privs/status", "", true, ""},
		{"seccomp/status-filter-mode", "", true, ""},
		// CVE-2016-9962: only 0, 1, 2 open although airlock is handed 3-5.
		{"CVE-2016-9962/inherited-fds", "", true, ""},

		// --- file system isolation (DESIGN.md threat model) ---
		{"fs-isolation/etc-shadow", enoent, true, ""},
		{"fs-isolation/etc-ssh", enoent, true, ""},
		{"fs-isolation/root-home", enoent, true, ""},
		{"fs-isolation/var-log", enoent, true, ""},
		{"fs-isolation/checkout", enoent, true, ""},
		{"fs-isolation/host-runtime-dir", enoent, true, ""},
		{"fs-isolation/other-homes", "", true, ""},
		{"bwrap/proc-sys-read-only", eacces, true, ""},
		{"bwrap/proc-sysrq-trigger", sysrq, sysrqHost, ""},
		// mkdir asks the mount for write access first: EROFS, even on the
		// sandbox's own root folder (the host run says EACCES).
		{"design/root-read-only", erofs, true, ""},
		{"design/usr-read-only", erofs, true, ""},
		{"design/etc-read-only", erofs, true, ""},
		{"design/private-tmp", "", true, ""},
		{"design/private-dev-shm", "", true, ""}, // the test leaves a host marker there

		// --- host services ---
		// CVE-2021-21261 (Flatpak): the host session bus reaches
		// org.freedesktop.portal.Flatpak.Spawn. A real dbus-daemon listens
		// in the host's XDG_RUNTIME_DIR.
		{"CVE-2021-21261/host-session-bus", enoent, true, "dbus-daemon"},
		// No system bus runs on this host: the host run says ENOENT too.
		{"design/system-bus", enoent, false, ""},
		// A real Xvfb: its socket path is in the host's /tmp, its abstract
		// name in the host's network namespace.
		{"xorg/host-socket-path", enoent, true, "Xvfb"},
		{"xorg/host-socket-abstract", refuse, true, "Xvfb"},
		// Host loopback services; CVE-2020-15257 (containerd-shim's
		// abstract socket reached from host-network containers).
		{"design/host-loopback-tcp", refuse, true, ""},
		{"CVE-2020-15257/host-abstract-socket", refuse, true, ""},

		// --- hardware identifiers ---
		{"design/interfaces-only-lo", "", true, ""},
		{"design/SIOCGIFHWADDR", "ENODEV", true, ""},
		{"design/no-dmi", enoent, true, ""}, // the host has /sys/firmware (no DMI: a VM)
		{"design/no-block-devices", enoent, true, ""},
		{"design/dev-contents", "", true, ""},
		{"design/dev-kmsg", enoent, true, ""},
		{"design/dev-console", enoent, true, ""},
		{"design/dev-kvm", enoent, true, "/dev/kvm"},
		// This host has no /dev/mem, input, sound or GPU devices: the
		// host run finds none either (design/dev-contents covers any).
		{"design/dev-mem", enoent, false, ""},
		{"design/dev-input", enoent, false, ""},
		{"design/dev-snd", enoent, false, ""},
		{"design/dev-dri", enoent, false, ""},
		// Identifiers differ from the host's (and between runs: see below).
		{"design/machine-id", "", true, ""},
		{"design/boot_id", "", true, ""},
		{"design/hostname", "", true, ""},
		// The host's kernel command line (root=UUID=... on an installed
		// system: a per-installation identifier) must not be the sandbox's.
		{"design/proc-cmdline", "", true, ""},
		// run.go puts each grant in a random folder "so that the application
		// learns nothing from the path but the file's name"; the bind
		// mount's source path in /proc/self/mountinfo must not undo that.
		// (Unconfined there is no grant mount: the host run cannot fail it.)
		{"design/grant-host-path-mountinfo", "", false, ""},

		// --- processes ---
		{"pid-namespace/host-pid-signal", "ESRCH", true, ""},
		{"pid-namespace/proc-only-sandbox", "", true, ""},
	}
}

// world is what the tests set up on the host.
type world struct {
	e         *harness.Env
	probe     string // user-owned copy of the probe, granted with --ro
	setuid    string // setuid-root copy, or ""
	canary    *exec.Cmd
	flags     []string // host facts and services for `probe all`
	missing   map[string]bool
	hostMID   string
	hostBoot  string
	hostName  string
	bootFlags []string
	// netHostFlags name the host's abstract sockets for `probe net-host`.
	netHostFlags []string
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func setup(t *testing.T) *world {
	// With a session bus, as on a desktop: the launcher starts the broker
	// and files handed in come through its document store.
	e := harness.Get(t).SessionBus(t)
	w := &world{e: e, missing: map[string]bool{}}
	built := e.BuildGo(t, "./tests/escape/probe")

	// A user-owned copy: /proc/self/exe must fail for being the running,
	// read-only-mounted binary, not for belonging to root.
	dir := e.UserDir(t)
	w.probe = filepath.Join(dir, "probe")
	copyFile(t, built, w.probe, 0o755)
	if e.AsRoot() {
		os.Chown(w.probe, e.UID, e.GID)
		// Outside /tmp: its folder is exposed at the same path inside,
		// and the sandbox's /tmp must stay empty.
		os.MkdirAll("/srv", 0o755)
		sdir, err := os.MkdirTemp("/srv", "airlock-escape-suid-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(sdir) })
		os.Chmod(sdir, 0o711)
		w.setuid = filepath.Join(sdir, "probe-suid")
		copyFile(t, built, w.setuid, 0o755)
		// The probe only prints its ids when it runs setuid.
		if err := os.Chmod(w.setuid, os.ModeSetuid|0o755); err != nil {
			t.Fatal(err)
		}
	} else {
		w.missing["root"] = true
	}

	// Host devices an attempt needs on the host to show it can fail: a
	// VM without nested virtualisation has no /dev/kvm.
	for _, dev := range []string{"/dev/kvm"} {
		if _, err := os.Stat(dev); err != nil {
			w.missing[dev] = true
		}
	}
	// A kernel built without IA32 emulation, or booted with
	// ia32_emulation=0, has no i386 system call entry: int $0x80 raises
	// SIGSEGV (a general protection fault) in or out of a sandbox, and there
	// is nothing for the filter to catch (arch/x86/entry/entry_64_compat.S,
	// ia32_enabled()).
	if r := harness.RunCmd(w.e.Command(context.Background(), w.probe, "int80")); !strings.Contains(r.Stdout, `"safe":false`) {
		w.missing["i386 system calls"] = true
	}

	w.hostName, _ = os.Hostname()
	w.hostMID = readTrim(t, "/etc/machine-id")
	w.hostBoot = readTrim(t, "/proc/sys/kernel/random/boot_id")
	var ifaces, blocks []string
	ifs, _ := net.Interfaces()
	for _, i := range ifs {
		if i.Name != "lo" {
			ifaces = append(ifaces, i.Name)
		}
	}
	bents, _ := os.ReadDir("/sys/block")
	for _, b := range bents {
		if _, err := os.Stat("/dev/" + b.Name()); err == nil {
			blocks = append(blocks, b.Name())
		}
	}
	if len(ifaces) == 0 {
		ifaces = []string{"eth0"}
	}
	if len(blocks) == 0 {
		blocks = []string{"sda", "vda", "nvme0n1"}
	}

	// A process of the same user on the host: kill(-1) inside must not
	// reach it, nor may any signal by pid.
	w.canary = e.Command(context.Background(), "/bin/sleep", "600")
	if err := w.canary.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stop(w.canary) })

	// A marker in the host's /dev/shm: the sandbox's must be another.
	shm := "/dev/shm/airlock-escape-" + randHex(4)
	os.WriteFile(shm, []byte("host"), 0o644)
	t.Cleanup(func() { os.Remove(shm) })

	// Host loopback: a TCP listener and an abstract unix socket.
	tl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tl.Close() })
	abstract := "airlock-escape-" + randHex(4)
	ul, err := net.Listen("unix", "@"+abstract)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ul.Close() })
	for _, l := range []net.Listener{tl, ul} {
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				c.Close()
			}
		}()
	}

	bus := w.startBus(t)
	display := w.startXvfb(t)

	w.flags = []string{
		"-hostname", w.hostName, "-machine-id", w.hostMID, "-boot-id", w.hostBoot,
		"-checkout", e.Root, "-launcher", e.Bin, "-host-runtime", e.RuntimeDir,
		"-bus", bus, "-x11", strconv.Itoa(display),
		"-tcp", tl.Addr().String(), "-abstract", abstract,
		"-canary", strconv.Itoa(w.canary.Process.Pid),
		"-ifaces", strings.Join(ifaces, ","), "-blockdevs", strings.Join(blocks, ","),
	}
	if w.setuid != "" {
		w.flags = append(w.flags, "-setuid", w.setuid)
	}
	cmdline, _ := os.ReadFile("/proc/cmdline")
	sum := sha256.Sum256(cmdline)
	w.flags = append(w.flags, "-grant-dir", dir, "-cmdline-sum", hex.EncodeToString(sum[:]))
	w.netHostFlags = []string{"-x11", strconv.Itoa(display), "-abstract", abstract}
	w.bootFlags = []string{"-hostname", w.hostName, "-machine-id", w.hostMID, "-boot-id", w.hostBoot}
	return w
}

// startBus starts a real session bus as the test user in the test user's
// host XDG_RUNTIME_DIR and returns its socket path ("" when dbus-daemon is
// not installed).
func (w *world) startBus(t *testing.T) string {
	bin, err := exec.LookPath("dbus-daemon")
	if err != nil {
		w.missing["dbus-daemon"] = true
		return ""
	}
	path := filepath.Join(w.e.RuntimeDir, "escape-bus-"+randHex(4))
	cmd := w.e.Command(context.Background(), bin, "--session", "--nofork", "--nopidfile", "--address=unix:path="+path, "--print-address=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stop(cmd); os.Remove(path) })
	line, err := readLine(out, 10*time.Second)
	if err != nil || !strings.HasPrefix(line, "unix:path="+path) {
		t.Fatalf("dbus-daemon did not start: %q %v", line, err)
	}
	if err := dialUnix(path); err != nil {
		t.Fatalf("the host bus is not reachable on the host: %v", err)
	}
	return path
}

// startXvfb starts Xvfb on a free display and returns its number (-1 when
// Xvfb is not installed).
func (w *world) startXvfb(t *testing.T) int {
	bin, err := exec.LookPath("Xvfb")
	if err != nil {
		w.missing["Xvfb"] = true
		return -1
	}
	n := 99
	for ; n < 200; n++ {
		_, e1 := os.Stat(fmt.Sprintf("/tmp/.X11-unix/X%d", n))
		_, e2 := os.Stat(fmt.Sprintf("/tmp/.X%d-lock", n))
		if os.IsNotExist(e1) && os.IsNotExist(e2) {
			break
		}
	}
	r, wr, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, fmt.Sprintf(":%d", n), "-nolisten", "tcp", "-displayfd", "3")
	cmd.ExtraFiles = []*os.File{wr}
	var logb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logb, &logb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	wr.Close()
	t.Cleanup(func() { stop(cmd) })
	line, err := readLine(r, 15*time.Second)
	r.Close()
	if err != nil || line != strconv.Itoa(n) {
		t.Fatalf("Xvfb :%d did not start (%q, %v): %s", n, line, err, logb.String())
	}
	// Both ways in work from the host: the sandbox must have neither.
	for _, a := range []string{fmt.Sprintf("/tmp/.X11-unix/X%d", n), fmt.Sprintf("@/tmp/.X11-unix/X%d", n)} {
		if err := dialUnix(a); err != nil {
			t.Fatalf("Xvfb at %s is not reachable on the host: %v", a, err)
		}
	}
	return n
}

// stop ends a helper we started, by its pid, and reaps it.
func stop(cmd *exec.Cmd) {
	if cmd.Process == nil {
		return
	}
	syscall.Kill(cmd.Process.Pid, syscall.SIGTERM)
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		syscall.Kill(cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
}

func dialUnix(addr string) error {
	c, err := net.DialTimeout("unix", addr, 2*time.Second)
	if err == nil {
		c.Close()
	}
	return err
}

func readLine(r io.Reader, timeout time.Duration) (string, error) {
	ch := make(chan string, 1)
	go func() {
		l, _ := bufio.NewReader(r).ReadString('\n')
		ch <- strings.TrimSpace(l)
	}()
	select {
	case l := <-ch:
		return l, nil
	case <-time.After(timeout):
		return "", fmt.Errorf("no answer in %v", timeout)
	}
}

func readTrim(t *testing.T, p string) string {
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func copyFile(t *testing.T, src, dst string, mode os.FileMode) {
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, mode); err != nil {
		t.Fatal(err)
	}
	os.Chmod(dst, mode)
}

// result is one line of the probe.
type result struct {
	Name   string `json:"name"`
	Safe   bool   `json:"safe"`
	Detail string `json:"detail"`
	Errno  string `json:"errno"`
	Value  string `json:"value"`
}

func parse(t *testing.T, out string) map[string]result {
	m := map[string]result{}
	for _, l := range strings.Split(out, "\n") {
		if strings.TrimSpace(l) == "" {
			continue
		}
		var r result
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Errorf("probe printed a non-JSON line: %q", l)
			continue
		}
		if _, dup := m[r.Name]; dup {
			t.Errorf("probe reported %s twice", r.Name)
		}
		m[r.Name] = r
	}
	return m
}

// openPty opens a host pseudo-terminal pair.
func openPty(t *testing.T) (master, slave *os.File) {
	m, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.IoctlSetPointerInt(m, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	s, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(m), unix.TIOCGPTPEER, unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC)
	if e != 0 {
		t.Fatal(e)
	}
	master, slave = os.NewFile(uintptr(m), "ptmx"), os.NewFile(s, "pts")
	t.Cleanup(func() { master.Close(); slave.Close() })
	return master, slave
}

// runOnTerminal runs cmd (built by the harness, as the test user) the way a
// user starts it from a terminal: a new session whose controlling terminal
// is a fresh host pty on stdin, and three stray descriptors (3, 4, 5) that
// must not reach the application. It returns the result and whatever
// appeared on the terminal, which must be nothing (stdout and stderr are
// not the terminal, so only injected input would be echoed there).
func runOnTerminal(t *testing.T, cmd *exec.Cmd) (harness.Result, string) {
	master, slave := openPty(t)
	cmd.Stdin = slave
	cmd.SysProcAttr.Setpgid = false
	cmd.SysProcAttr.Setsid = true
	cmd.SysProcAttr.Setctty = true
	cmd.SysProcAttr.Ctty = 0
	var stray []*os.File
	for _, p := range []string{"/etc/passwd", "/", "/dev/null"} {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		stray = append(stray, f)
	}
	cmd.ExtraFiles = stray
	res := harness.RunCmd(cmd)
	unix.SetNonblock(int(master.Fd()), true)
	buf := make([]byte, 4096)
	n, _ := master.Read(buf)
	if n < 0 {
		n = 0
	}
	return res, string(buf[:n])
}

func TestEscape(t *testing.T) {
	w := setup(t)
	e := w.e
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// `airlock run --ro PROBE --ro SETUID -- PROBE all FLAGS`: the grants
	// make the probe (and the setuid copy) visible inside, and the launcher
	// rewrites the arguments equal to their paths.
	grants := []string{"run", "--ro", w.probe}
	// grants = "revocable" (the default, said here because it matters):
	// files handed in show no host path at all, not even in
	// /proc/self/mountinfo ("native-irrevocable" binds read-only files
	// from the host for speed, and mountinfo shows where from).
	prof := "grants = \"revocable\"\n"
	if w.setuid != "" {
		// The setuid copy keeps its mode only through a bind at the same
		// path (the document store shows no setuid bit at all): the
		// profile exposes its folder read-only, and that mount is nosuid.
		prof += fmt.Sprintf("expose_ro = [%q]\n", filepath.Dir(w.setuid))
	}
	profFile := filepath.Join(e.UserDir(t), "escape.toml")
	e.WriteUserFile(t, profFile, prof, 0o644)
	grants = append(grants, "--profile", profFile)
	args := append(append(grants, "--", w.probe, "all"), w.flags...)
	res, term := runOnTerminal(t, e.Airlock(ctx, args...))
	if res.Code != 0 {
		t.Fatalf("probe in the sandbox: %v", res)
	}
	if term != "" {
		t.Errorf("the host terminal received %q from the sandbox (TIOCSTI injection)", term)
	}
	got := parse(t, res.Stdout)
	first := got

	table := attempts()
	known := map[string]bool{}
	for _, a := range table {
		known[a.name] = true
		t.Run(a.name, func(t *testing.T) {
			if a.needs != "" && w.missing[a.needs] {
				t.Skipf("%s is not available on this machine: cannot run this attempt", a.needs)
			}
			r, ok := got[a.name]
			if !ok {
				t.Fatalf("the probe did not report %s", a.name)
			}
			if !r.Safe {
				t.Errorf("ESCAPE: %s: %s", a.name, r.Detail)
			}
			if r.Errno != a.errno {
				t.Errorf("%s: errno %q, want %q (%s)", a.name, r.Errno, a.errno, r.Detail)
			}
			t.Logf("%s", r.Detail)
		})
	}
	for name := range got {
		if !known[name] {
			t.Errorf("the probe reported %s, which the table does not assert", name)
		}
	}

	// Fresh identifiers per sandbox: a second run differs from the first.
	t.Run("design/ids-fresh-per-sandbox", func(t *testing.T) {
		r := e.Run(t, append([]string{"run", "--ro", w.probe, "--", w.probe, "ids"}, w.bootFlags...)...)
		if r.Code != 0 {
			t.Fatalf("probe ids: %v", r)
		}
		second := parse(t, r.Stdout)
		for _, n := range []string{"design/machine-id", "design/boot_id"} {
			a, b := first[n], second[n]
			if !b.Safe || a.Value == "" || a.Value == b.Value {
				t.Errorf("%s: first run %q, second run %q (%s): want a fresh value per sandbox", n, a.Value, b.Value, b.Detail)
			}
		}
		if h := second["design/hostname"].Value; h != "localhost" || h == w.hostName {
			t.Errorf("host name %q, want the neutral %q of the default profile", h, "localhost")
		}
	})

	// --net host shares the host's network namespace, abstract sockets
	// included: Landlock's scope (landlock_unsafe.go) must still refuse them.
	for _, name := range []string{"xorg/net-host-abstract-socket", "CVE-2020-15257/net-host-abstract-socket"} {
		t.Run(name, func(t *testing.T) {
			if strings.HasPrefix(name, "xorg/") && w.missing["Xvfb"] {
				t.Skip("Xvfb is not available on this machine: cannot run this attempt")
			}
			r := e.Run(t, append([]string{"run", "--net", "host", "--ro", w.probe, "--", w.probe, "net-host"}, w.netHostFlags...)...)
			if r.Code != 0 {
				t.Fatalf("probe net-host: %v", r)
			}
			got, ok := parse(t, r.Stdout)[name]
			if !ok || !got.Safe || got.Errno != eperm {
				t.Errorf("%s: errno %q, want EPERM (%s)", name, got.Errno, got.Detail)
			}
		})
	}

	// With grants = "native-irrevocable" and a broker, init keeps two
	// threads with capabilities, one of them in a mount namespace that
	// still shows the host (bindgrant_linux.go). /proc/1/task/* of each must
	// be as unreachable as /proc/1 itself (non-dumpable init, proc(5)).
	t.Run("proc(5)/init-threads-host-view/native-grants", func(t *testing.T) {
		native := filepath.Join(e.UserDir(t), "native.toml")
		e.WriteUserFile(t, native, "grants = \"native-irrevocable\"\n", 0o644)
		r := e.Run(t, append([]string{"run", "--profile", native, "--ro", w.probe, "--", w.probe, "proc-init"}, w.flags...)...)
		if r.Code != 0 {
			t.Fatalf("probe proc-init: %v", r)
		}
		got := parse(t, r.Stdout)
		for _, name := range []string{"proc(5)/init-threads-host-view", "CVE-2019-5736/proc-1-exe", "CVE-2016-9962/proc-1-mem"} {
			if g, ok := got[name]; !ok || !g.Safe || g.Errno != enoent {
				t.Errorf("%s with native grants: %+v, want safe with ENOENT (hidepid=invisible)", name, g)
			}
		}
		d := got["proc(5)/init-threads-host-view"].Detail
		t.Logf("%s", d)
		if !strings.Contains(d, "threads of init and") {
			t.Errorf("no thread checked: %q", d)
		}
	})

	// kill(-1, SIGKILL) inside reaches nothing outside: the pid namespace
	// holds only init (exempt) and the probe. The host canary, a process of
	// the same user, survives.
	t.Run("pid-namespace/kill-all", func(t *testing.T) {
		// grants = "revocable": no host-view helper in the sandbox. With
		// native grants kill(-1) also reaches that helper, the sandbox's
		// own process: the sandbox then only loses its native binds (its
		// grants go through the document store), nothing outside.
		r := e.Run(t, "run", "--profile", profFile, "--ro", w.probe, "--", w.probe, "kill-all")
		if r.Code != 0 {
			t.Fatalf("probe kill-all: %v", r)
		}
		k := parse(t, r.Stdout)["pid-namespace/kill-all"]
		if !k.Safe || k.Errno != "ESRCH" {
			t.Errorf("kill(-1, SIGKILL) inside: %s (errno %q, want ESRCH)", k.Detail, k.Errno)
		}
		time.Sleep(100 * time.Millisecond)
		if err := syscall.Kill(w.canary.Process.Pid, 0); err != nil || w.canary.ProcessState != nil {
			t.Errorf("the host canary (pid %d) died: %v", w.canary.Process.Pid, err)
		}
		if st, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", w.canary.Process.Pid)); strings.Contains(string(st), ") Z ") {
			t.Errorf("the host canary is a zombie: killed from the sandbox")
		}
	})

	// A foreign system call ABI kills the process (SECCOMP_RET_KILL_PROCESS):
	// the filter only knows x86_64 numbers, and i386's mean other calls.
	// airlock reports the application's death by SIGSYS as 128+31.
	for _, f := range []struct{ name, mode, needs string }{
		{"seccomp/i386-int80", "int80", "i386 system calls"},
		{"seccomp/x32", "x32", ""},
	} {
		t.Run(f.name, func(t *testing.T) {
			if f.needs != "" && w.missing[f.needs] {
				t.Skipf("%s: this kernel has none (the host run of the same call faults too)", f.needs)
			}
			r := e.Run(t, "run", "--ro", w.probe, "--", w.probe, f.mode)
			if r.Code != 128+int(syscall.SIGSYS) {
				t.Errorf("%s: want death by SIGSYS (exit %d), got %v", f.mode, 128+int(syscall.SIGSYS), r)
			}
			if strings.TrimSpace(r.Stdout) != "" {
				t.Errorf("%s: the call returned: %s", f.mode, r.Stdout)
			}
		})
	}
}

// TestProbeCanFail runs the same probe on the host, outside any sandbox, as
// the same user with the same terminal and stray descriptors: every attempt
// marked unconfined must then be reported as an escape. This is what shows
// that each sandbox test above fails when its protection is gone.
func TestProbeCanFail(t *testing.T) {
	w := setup(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// The canary stands in for init: same user, dumpable, all the things
	// the sandbox's init must not be.
	args := append([]string{"all"}, w.flags...)
	args = append(args, "-init-pid", strconv.Itoa(w.canary.Process.Pid))
	res, _ := runOnTerminal(t, w.e.Command(ctx, w.probe, args...))
	if res.Code != 0 {
		t.Fatalf("probe on the host: %v", res)
	}
	got := parse(t, res.Stdout)
	for _, a := range attempts() {
		if !a.unconfined {
			continue
		}
		t.Run(a.name, func(t *testing.T) {
			if a.needs != "" && w.missing[a.needs] {
				t.Skipf("%s is not available on this machine", a.needs)
			}
			r, ok := got[a.name]
			if !ok {
				t.Fatalf("the probe did not report %s", a.name)
			}
			if r.Safe {
				t.Errorf("%s reports safe outside the sandbox too: it cannot detect an escape (%s)", a.name, r.Detail)
			}
		})
	}
	// The foreign-ABI modes: unconfined, int 0x80 returns (getpid), and x32
	// returns ENOSYS here (no CONFIG_X86_X32_ABI); neither dies by SIGSYS.
	for _, mode := range []string{"int80", "x32"} {
		if mode == "int80" && w.missing["i386 system calls"] {
			t.Logf("int80: this kernel has no i386 system calls; not checked")
			continue
		}
		r := harness.RunCmd(w.e.Command(ctx, w.probe, mode))
		if r.Code == 128+int(syscall.SIGSYS) || !strings.Contains(r.Stdout, `"safe":false`) {
			t.Errorf("probe %s unconfined: want the call to return, got %v", mode, r)
		}
	}
}
