package main

import (
	"flag"
	"os"
)

// config is what the test knows about the host and hands in: the values the
// sandbox must not reveal and the host services it must not reach.
type config struct {
	hostname, machineID, bootID string // the host's identifiers
	checkout                    string // the repository checkout on the host
	launcher                    string // the airlock binary on the host
	hostRuntime                 string // the test user's XDG_RUNTIME_DIR on the host
	bus                         string // a host session bus socket (dbus-daemon)
	x11                         int    // a host X display (Xvfb) or -1
	tcp                         string // a host listener on 127.0.0.1:PORT
	abstract                    string // a host abstract unix socket (without '@')
	canary                      int    // a host process of the same user
	initPid                     int    // the sandbox's init (1); on the host, a stand-in
	ifaces, blockdevs           []string
	setuid                      string // a setuid-root copy of the probe, granted with --ro
	grantDir                    string // the host folder of the granted probe
	cmdlineSum                  string // sha256 of the host\'s /proc/cmdline
}

func parseConfig(args []string) *config {
	c := &config{}
	fs := flag.NewFlagSet("probe", flag.ExitOnError)
	fs.StringVar(&c.hostname, "hostname", "", "the host's host name")
	fs.StringVar(&c.machineID, "machine-id", "", "the host's machine-id")
	fs.StringVar(&c.bootID, "boot-id", "", "the host's boot_id")
	fs.StringVar(&c.checkout, "checkout", "", "the repository path on the host")
	fs.StringVar(&c.launcher, "launcher", "", "the airlock binary on the host")
	fs.StringVar(&c.hostRuntime, "host-runtime", "", "the host XDG_RUNTIME_DIR")
	fs.StringVar(&c.bus, "bus", "", "a host session bus socket path")
	fs.IntVar(&c.x11, "x11", -1, "a host X display number")
	fs.StringVar(&c.tcp, "tcp", "", "a host TCP listener")
	fs.StringVar(&c.abstract, "abstract", "", "a host abstract socket name")
	fs.IntVar(&c.canary, "canary", 0, "a host process of the same user")
	fs.IntVar(&c.initPid, "init-pid", 1, "the sandbox's init")
	ifaces := fs.String("ifaces", "", "the host's network interfaces, comma-separated")
	blocks := fs.String("blockdevs", "", "the host's block devices, comma-separated")
	fs.StringVar(&c.setuid, "setuid", "", "a setuid-root copy of the probe")
	fs.StringVar(&c.grantDir, "grant-dir", "", "the host folder of the granted probe")
	fs.StringVar(&c.cmdlineSum, "cmdline-sum", "", "sha256 of the host's /proc/cmdline")
	if err := fs.Parse(args); err != nil {
		os.Exit(2)
	}
	c.ifaces, c.blockdevs = splitList(*ifaces), splitList(*blocks)
	return c
}
