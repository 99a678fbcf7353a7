// Command launchbench measures `airlock run -- /bin/true` against bubblewrap
// with the same isolation and mounts, in one run on one machine, and the
// resident memory of each sandbox's init while an application runs. It prints
// both figures and the ratio; it asserts nothing. Run it as an ordinary user
// (tests/bench/launch.sh does).
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"airlock/launcher/sandbox"
)

func main() {
	runs := flag.Int("runs", 100, "measured runs per command")
	warmup := flag.Int("warmup", 10, "unmeasured runs first")
	airlock := flag.String("airlock", "airlock", "airlock binary")
	flag.Parse()
	if os.Geteuid() == 0 {
		fmt.Fprintln(os.Stderr, "launchbench: run as an ordinary user")
		os.Exit(2)
	}
	bwrap := bwrapArgs("/bin/true")
	cmds := []struct {
		name string
		argv []string
	}{
		{"fork/exec /bin/true", []string{"/bin/true"}},
		{"bwrap (same isolation)", bwrap},
		{"airlock run", []string{*airlock, "run", "--", "/bin/true"}},
	}
	times := make([][]time.Duration, len(cmds))
	// Interleaved, so that a change in machine load hits every command alike.
	for i := 0; i < *warmup+*runs; i++ {
		for j, c := range cmds {
			start := time.Now()
			cmd := exec.Command(c.argv[0], c.argv[1:]...)
			cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
			if err := cmd.Run(); err != nil {
				fmt.Fprintf(os.Stderr, "%s: %v\n", c.name, err)
				os.Exit(1)
			}
			if i >= *warmup {
				times[j] = append(times[j], time.Since(start))
			}
		}
	}
	fmt.Printf("launch of /bin/true, median of %d runs (p10..p90)\n", *runs)
	med := make([]time.Duration, len(cmds))
	for j, c := range cmds {
		t := times[j]
		sort.Slice(t, func(a, b int) bool { return t[a] < t[b] })
		med[j] = t[len(t)/2]
		fmt.Printf("  %-24s %8.2f ms  (%.2f..%.2f)\n", c.name, ms(med[j]), ms(t[len(t)/10]), ms(t[len(t)*9/10]))
	}
	fmt.Printf("SUMMARY launch airlock=%.2fms bwrap=%.2fms ratio=%.2fx (target <= 1.5x)\n", ms(med[2]), ms(med[1]), float64(med[2])/float64(med[1]))

	// Resident memory while an application runs: the sandbox's pid 1 and the
	// host-side process that supervises it.
	aInit, aHost := rss(append([]string{*airlock, "run", "--"}, "/bin/sleep", "3"))
	bInit, bHost := rss(bwrapArgs("/bin/sleep", "3"))
	fmt.Println("resident memory while the application runs (VmRSS)")
	fmt.Printf("  %-24s init %6d KiB   host side %6d KiB\n", "bwrap", bInit, bHost)
	fmt.Printf("  %-24s init %6d KiB   host side %6d KiB\n", "airlock", aInit, aHost)
	fmt.Printf("SUMMARY rss-init airlock=%dKiB bwrap=%dKiB ratio=%.1fx; host-side airlock=%dKiB bwrap=%dKiB\n", aInit, bInit, float64(aInit)/float64(max(bInit, 1)), aHost, bHost)
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }

// bwrapArgs gives bubblewrap the sandbox Airlock builds: every namespace, a
// new session, death with the parent, /usr and the merged-usr links, the same
// /etc entries, /proc, a minimal /dev, the CPU topology of /sys, and private
// /tmp, $HOME and /run/user/UID.
func bwrapArgs(cmd ...string) []string {
	a := []string{"bwrap", "--unshare-all", "--die-with-parent", "--new-session", "--ro-bind", "/usr", "/usr"}
	for _, d := range []string{"/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32"} {
		if t, err := os.Readlink(d); err == nil {
			a = append(a, "--symlink", t, d)
		}
	}
	for _, e := range sandbox.EtcEntries() {
		p := filepath.Join("/etc", e)
		if t, err := os.Readlink(p); err == nil {
			a = append(a, "--symlink", t, p)
		} else if _, err := os.Stat(p); err == nil {
			a = append(a, "--ro-bind", p, p)
		}
	}
	home, _ := os.UserHomeDir()
	uid := strconv.Itoa(os.Getuid())
	a = append(a, "--proc", "/proc", "--dev", "/dev", "--ro-bind", "/sys/devices/system/cpu", "/sys/devices/system/cpu",
		"--tmpfs", "/tmp", "--tmpfs", home, "--tmpfs", "/run/user/"+uid, "--hostname", "localhost", "--")
	return append(a, cmd...)
}

// rss starts argv, waits until its sandbox's init runs the application, and
// reads the VmRSS of init (the host-side process's child that owns the pid
// namespace) and of the host-side process itself.
func rss(argv []string) (initKiB, hostKiB int) {
	cmd := exec.Command(argv[0], argv[1:]...)
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer cmd.Wait()
	time.Sleep(1500 * time.Millisecond)
	host := cmd.Process.Pid
	hostKiB = vmRSS(host)
	// bwrap forks twice (monitor, then pid 1 of the sandbox); airlock once.
	pid := host
	for depth := 0; depth < 3; depth++ {
		kids := children(pid)
		if len(kids) == 0 {
			break
		}
		pid = kids[0]
		if strings.HasSuffix(readFile(fmt.Sprintf("/proc/%d/comm", pid)), "sleep") {
			break
		}
		if nsPid(pid) == 1 {
			initKiB = vmRSS(pid)
			break
		}
	}
	return initKiB, hostKiB
}

func readFile(p string) string {
	b, _ := os.ReadFile(p)
	return strings.TrimSpace(string(b))
}

// children lists pid's children, of every thread: the launcher forks init
// from a locked thread of its own, not always the main one.
func children(pid int) []int {
	var out []int
	tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	for _, t := range tasks {
		for _, f := range strings.Fields(readFile(fmt.Sprintf("/proc/%d/task/%s/children", pid, t.Name()))) {
			n, _ := strconv.Atoi(f)
			out = append(out, n)
		}
	}
	return out
}

func nsPid(pid int) int {
	for _, l := range strings.Split(readFile(fmt.Sprintf("/proc/%d/status", pid)), "\n") {
		if v, ok := strings.CutPrefix(l, "NSpid:"); ok {
			f := strings.Fields(v)
			n, _ := strconv.Atoi(f[len(f)-1])
			return n
		}
	}
	return 0
}

func vmRSS(pid int) int {
	for _, l := range strings.Split(readFile(fmt.Sprintf("/proc/%d/status", pid)), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return n
		}
	}
	return 0
}
