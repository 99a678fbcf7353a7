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
	before := flag.String("before", "", "another airlock binary (an earlier revision), measured in the same run")
	flag.Parse()
	if os.Geteuid() == 0 {
		fmt.Fprintln(os.Stderr, "launchbench: run as an ordinary user")
		os.Exit(2)
	}
	cmds := []struct {
		name string
		argv []string
	}{
		{"fork/exec /bin/true", []string{"/bin/true"}},
		{"bwrap (same isolation)", bwrapArgs(false, "/bin/true")},
		{"bwrap, /etc bound once", bwrapArgs(true, "/bin/true")},
		{"airlock run", []string{*airlock, "run", "--", "/bin/true"}},
	}
	if *before != "" {
		cmds = append(cmds, struct {
			name string
			argv []string
		}{"airlock run, before", []string{*before, "run", "--", "/bin/true"}})
	}
	times := make([][]time.Duration, len(cmds))
	// CPU time (user + system) of each launch, its reaped descendants
	// included (wait4's rusage): less disturbed than wall time when other
	// work shares the machine.
	cpu := make([][]time.Duration, len(cmds))
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
				cpu[j] = append(cpu[j], cmd.ProcessState.UserTime()+cmd.ProcessState.SystemTime())
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
	fmt.Printf("CPU time (user + system) per launch, median\n")
	cmed := make([]time.Duration, len(cmds))
	for j, c := range cmds {
		t := cpu[j]
		sort.Slice(t, func(a, b int) bool { return t[a] < t[b] })
		cmed[j] = t[len(t)/2]
		fmt.Printf("  %-24s %8.2f ms\n", c.name, ms(cmed[j]))
	}
	// SUMMARY lines: tests/bench/run_all.sh collects them into one table
	// (figure, airlock, anchor, ratio).
	fmt.Printf("SUMMARY launch airlock=%.2fms bwrap=%.2fms ratio=%.2fx (bwrap with the same per-entry /etc binds)\n", ms(med[3]), ms(med[1]), float64(med[3])/float64(med[1]))
	fmt.Printf("SUMMARY launch-flatpak airlock=%.2fms bwrap=%.2fms ratio=%.2fx (bwrap with /etc bound once, as Flatpak binds its runtime's; goal <= 1.0x)\n", ms(med[3]), ms(med[2]), float64(med[3])/float64(med[2]))

	fmt.Printf("SUMMARY launch-cpu airlock=%.2fms bwrap=%.2fms ratio=%.2fx (CPU time per launch, against bwrap with /etc bound once)\n", ms(cmed[3]), ms(cmed[2]), float64(cmed[3])/float64(cmed[2]))
	if *before != "" {
		fmt.Printf("SUMMARY launch-cpu-before-after airlock=%.2fms before=%.2fms ratio=%.2fx\n", ms(cmed[3]), ms(cmed[4]), float64(cmed[3])/float64(cmed[4]))
		fmt.Printf("SUMMARY launch-before-after airlock=%.2fms before=%.2fms ratio=%.2fx (this airlock against -before, same run)\n", ms(med[3]), ms(med[4]), float64(med[3])/float64(med[4]))
	}

	// Memory while an application runs: the sandbox's pid 1 and the
	// host-side process that supervises it (bwrap's monitor), VmRSS and
	// Pss (the share of pages other processes map too, the airlock binary's
	// among sandboxes).
	a := memOf(append([]string{*airlock, "run", "--"}, "/bin/sleep", "3"))
	b := memOf(bwrapArgs(false, "/bin/sleep", "3"))
	fmt.Println("memory while the application runs, KiB: VmRSS / Pss")
	fmt.Printf("  %-24s init %6d / %6d   host side %6d / %6d\n", "bwrap", b.initRSS, b.initPss, b.hostRSS, b.hostPss)
	fmt.Printf("  %-24s init %6d / %6d   host side %6d / %6d\n", "airlock", a.initRSS, a.initPss, a.hostRSS, a.hostPss)
	if *before != "" {
		o := memOf(append([]string{*before, "run", "--"}, "/bin/sleep", "3"))
		fmt.Printf("  %-24s init %6d / %6d   host side %6d / %6d\n", "airlock, before", o.initRSS, o.initPss, o.hostRSS, o.hostPss)
	}
	fmt.Printf("SUMMARY rss-pair airlock=%dKiB bwrap=%dKiB ratio=%.2fx (VmRSS, host side + pid 1; goal <= 2x)\n", a.hostRSS+a.initRSS, b.hostRSS+b.initRSS, float64(a.hostRSS+a.initRSS)/float64(max(b.hostRSS+b.initRSS, 1)))
	// Init is non-dumpable, but the user owns the sandbox's user namespace
	// and so may read its smaps_rollup (ptrace_may_access).
	fmt.Printf("SUMMARY pss-pair airlock=%dKiB bwrap=%dKiB ratio=%.2fx (Pss, host side + pid 1)\n", a.hostPss+a.initPss, b.hostPss+b.initPss, float64(a.hostPss+a.initPss)/float64(max(b.hostPss+b.initPss, 1)))
	fmt.Printf("SUMMARY rss-init airlock=%dKiB bwrap=%dKiB ratio=%.2fx (VmRSS, pid 1)\n", a.initRSS, b.initRSS, float64(a.initRSS)/float64(max(b.initRSS, 1)))
	fmt.Printf("SUMMARY rss-host airlock=%dKiB bwrap=%dKiB ratio=%.2fx (VmRSS, host side)\n", a.hostRSS, b.hostRSS, float64(a.hostRSS)/float64(max(b.hostRSS, 1)))
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }

// bwrapArgs gives bubblewrap the sandbox Airlock builds: every namespace, a
// new session, death with the parent, /usr and the merged-usr links, the same
// /etc entries, /proc, a minimal /dev, the CPU topology of /sys, and private
// /tmp, $HOME and /run/user/UID. With etcOnce, the whole of /etc is bound in
// one mount instead, as Flatpak binds its runtime's /etc.
func bwrapArgs(etcOnce bool, cmd ...string) []string {
	a := []string{"bwrap", "--unshare-all", "--die-with-parent", "--new-session", "--ro-bind", "/usr", "/usr"}
	for _, d := range []string{"/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32"} {
		if t, err := os.Readlink(d); err == nil {
			a = append(a, "--symlink", t, d)
		}
	}
	if etcOnce {
		a = append(a, "--ro-bind", "/etc", "/etc")
	}
	for _, e := range sandbox.EtcEntries() {
		if etcOnce {
			break
		}
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

type memory struct{ initRSS, initPss, hostRSS, hostPss int }

// memOf starts argv, waits until its sandbox's init runs the application,
// and reads the VmRSS and Pss of init (the host-side process's descendant
// that owns the pid namespace) and of the host-side process itself.
func memOf(argv []string) (m memory) {
	cmd := exec.Command(argv[0], argv[1:]...)
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer cmd.Wait()
	time.Sleep(1500 * time.Millisecond)
	host := cmd.Process.Pid
	m.hostRSS, m.hostPss = vmRSS(host), pss(host)
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
			m.initRSS, m.initPss = vmRSS(pid), pss(pid)
			break
		}
	}
	return m
}

// pss reads Pss from /proc/PID/smaps_rollup (readable by the process's
// owner unless it is non-dumpable; 0 then).
func pss(pid int) int {
	for _, l := range strings.Split(readFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid)), "\n") {
		if v, ok := strings.CutPrefix(l, "Pss:"); ok {
			n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return n
		}
	}
	return 0
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
