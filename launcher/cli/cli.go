// Package cli is the airlock command line: it parses the arguments of run,
// ps, kill, profiles, profile show, grant, grants and revoke, and prints
// their results. The sandbox's side of airlock-portal is brokerclient's.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"airlock/launcher/brokerclient"
	"airlock/launcher/profile"
	"airlock/launcher/sandbox"
	"airlock/po/i18n"
	"airlock/portal/control"
	"airlock/portal/grant"
)

// Exit statuses of the command itself.
const (
	exitUsage  = 2
	exitFailed = 1
)

var stderr io.Writer = os.Stderr
var stdout io.Writer = os.Stdout

func usage() string {
	return i18n.T("Usage:\n" +
		"  airlock run [--profile NAME|FILE] [--net none|tor|host] [--sound none|full]\n" +
		"              [--display none|x11|xephyr] [--ro PATH]... [--rw PATH]...\n" +
		"              [--name NAME] [--verbose] [--dry-run [--json]] [--] COMMAND [ARG...]\n" +
		"  airlock run [--dry-run [--json]] [--files ro|rw] PROFILE [FILE...]\n" +
		"  airlock ps\n" +
		"  airlock kill [--signal NAME|NUMBER] ID|NAME\n" +
		"  airlock profiles\n" +
		"  airlock profile show NAME|FILE\n" +
		"  airlock grant [--rw] ID|NAME PATH\n" +
		"  airlock grants [ID|NAME]\n" +
		"  airlock revoke ID|NAME DOC\n" +
		"  airlock clipboard copy|paste ID|NAME|host\n" +
		"  airlock clipboard show|clear\n" +
		"  airlock log [--sandbox ID|NAME] [--since TIME]\n" +
		"  airlock manager\n")
}

func errorf(format string, args ...any) {
	fmt.Fprintf(stderr, "airlock: %s\n", fmt.Sprintf(format, args...))
}

// Main runs the command line and returns the exit status.
func Main(args []string) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage())
		return exitUsage
	}
	switch args[0] {
	case "run":
		return cmdRun(args[1:])
	case "ps":
		return cmdPs(args[1:])
	case "kill":
		return cmdKill(args[1:])
	case "profiles":
		return cmdProfiles()
	case "grant":
		return cmdGrant(args[1:])
	case "grants":
		return cmdGrants(args[1:])
	case "revoke":
		return cmdRevoke(args[1:])
	case "manager":
		return cmdManager(args[1:])
	case "clipboard":
		return cmdClipboard(args[1:])
	case "log":
		return cmdLog(args[1:])
	case "profile":
		if len(args) == 3 && args[1] == "show" {
			return cmdProfileShow(args[2])
		}
	case "help", "--help", "-h":
		fmt.Fprint(stdout, usage())
		return 0
	}
	fmt.Fprint(stderr, usage())
	return exitUsage
}

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func newLogger(verbose bool) *slog.Logger {
	level := slog.LevelWarn
	if verbose || os.Getenv("AIRLOCK_LOG") == "info" {
		level = slog.LevelInfo
	}
	if os.Getenv("AIRLOCK_LOG") == "debug" {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
}

func cmdRun(args []string) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var ro, rw listFlag
	profName := fs.String("profile", "", "profile name or file")
	netMode := fs.String("net", "", "none, tor or host")
	sound := fs.String("sound", "", "none or full")
	display := fs.String("display", "", "none, x11 or xephyr")
	name := fs.String("name", "", "sandbox name")
	verbose := fs.Bool("verbose", false, "log what the sandbox does")
	dryRun := fs.Bool("dry-run", false, "print the sandbox's plan and start nothing")
	asJSON := fs.Bool("json", false, "with --dry-run: print the plan as JSON")
	// Desktop launchers pass --files ro: a file opened from the file
	// manager goes in read-only, whatever the profile's default_grant
	// (saving it back goes through the chooser), as in Oz.
	filesMode := fs.String("files", "", "ro or rw: how FILEs after PROFILE are handed in (default: the profile's default_grant)")
	fs.Var(&ro, "ro", "share PATH read-only (repeatable)")
	fs.Var(&rw, "rw", "share PATH read-write (repeatable)")
	fs.Usage = func() { fmt.Fprint(stderr, usage()) }
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	// A host root mapped into a sandbox is still root over every file that
	// root owns on the host: that is not a sandbox. There is no setuid
	// helper either; an ordinary user is all Airlock needs.
	if *filesMode != "" && *filesMode != profile.GrantReadOnly && *filesMode != profile.GrantReadWrite {
		errorf("%s", i18n.T("%s: %q is not one of %s", "--files", *filesMode, "ro, rw"))
		return exitUsage
	}
	if os.Geteuid() == 0 && !*dryRun {
		errorf("%s", i18n.T("refusing to run as root: start sandboxes as an ordinary user (a root mapped into a sandbox is not a sandbox)"))
		return exitUsage
	}
	rest := fs.Args()
	dashdash := len(args) > 0 && len(rest) > 0 && len(args) >= len(rest)+1 && args[len(args)-len(rest)-1] == "--"
	var docs []sandbox.Doc
	var command []string
	var p *profile.Profile
	var err error
	switch {
	case *profName != "":
		p, err = profile.Find(*profName)
		command = rest
	case len(rest) > 0 && !dashdash && isProfile(rest[0]):
		// airlock run PROFILE [FILE...]: the profile's command, with the
		// files handed in as documents.
		p, err = profile.Find(rest[0])
		if err == nil {
			mode := p.DefaultGrant
			if *filesMode != "" {
				mode = *filesMode
			}
			for _, f := range rest[1:] {
				docs = append(docs, sandbox.Doc{Path: f, RW: mode == profile.GrantReadWrite})
			}
			if len(p.Command) == 0 {
				errorf("%s", i18n.T("profile %s has no command: use airlock run --profile %s -- COMMAND", p.Name, p.Name))
				return exitUsage
			}
			command = append(append([]string(nil), p.Command...), rest[1:]...)
		}
	default:
		p, err = profile.Find("default")
		if err != nil {
			d := profile.Defaults()
			d.Name, d.DisplayName, d.Path = "default", "default", "(built-in)"
			p, err = &d, nil
		}
		command = rest
	}
	if err != nil {
		errorf("%v", err)
		return exitUsage
	}
	if len(command) == 0 {
		if len(p.Command) == 0 {
			fmt.Fprint(stderr, usage())
			return exitUsage
		}
		command = p.Command
	}
	// Flags override the profile; each is checked like a profile key.
	for _, o := range []struct {
		flag, val string
		dst       *string
		allowed   []string
	}{
		{"--net", *netMode, &p.Net, []string{profile.NetNone, profile.NetTor, profile.NetHost}},
		{"--sound", *sound, &p.Sound, []string{profile.SoundNone, profile.SoundFull}},
		{"--display", *display, &p.Display, []string{profile.DisplayNone, profile.DisplayX11, profile.DisplayXephyr}},
	} {
		if o.val == "" {
			continue
		}
		if !slices.Contains(o.allowed, o.val) {
			errorf("%s", i18n.T("%s: %q is not one of %s", o.flag, o.val, strings.Join(o.allowed, ", ")))
			return exitUsage
		}
		*o.dst = o.val
	}
	if !*dryRun && missingApp(p, command) {
		return sandbox.ExitNotFound
	}
	for _, f := range ro {
		docs = append(docs, sandbox.Doc{Path: f})
	}
	for _, f := range rw {
		docs = append(docs, sandbox.Doc{Path: f, RW: true})
	}
	log := newLogger(*verbose)
	if *dryRun {
		sb, err := sandbox.Prepare(sandbox.Options{Profile: p, Name: *name, Docs: docs, Args: command, Logger: log,
			Broker: sandbox.DryRunBroker{}, DryRun: true})
		if err != nil {
			errorf("%v", err)
			return exitFailed
		}
		if err := sb.Plan().Print(stdout, *asJSON); err != nil {
			errorf("%v", err)
			return exitFailed
		}
		return 0
	}
	br := brokerclient.Connect(log)
	opts := sandbox.Options{Profile: p, Name: *name, Docs: docs, Args: command, Logger: log}
	if br != nil {
		opts.Broker = br // never a typed nil: nil runs the sandbox without a bus
	}
	sb, err := sandbox.Prepare(opts)
	if err != nil {
		errorf("%v", err)
		// The nested display's server is confined in user namespaces of
		// its own, made before the sandbox's (Prepare).
		if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.ENOSPC) {
			if advice := usernsAdvice("/", executable()); advice != "" {
				fmt.Fprintln(stderr, advice)
			}
		}
		return exitFailed
	}
	if br != nil {
		if err := br.Serve(sb); err != nil {
			log.Warn("grants through the document store only", "err", err)
		}
	}
	code, err := sb.Run()
	if err != nil {
		errorf("%v", err)
		if code == 0 {
			code = exitFailed
		}
	}
	if code == sandbox.ExitSetup {
		// The kernel may keep unprivileged programs from creating user
		// namespaces (EPERM at clone, or no capabilities inside): say
		// which setting does and what to do.
		if advice := usernsAdvice("/", executable()); advice != "" {
			fmt.Fprintln(stderr, advice)
		}
	}
	return code
}

// missingApp says, before anything is created or registered, that the
// profile's application is not installed, and which Debian packages provide
// it. Only the profile's own command is checked, and only where the sandbox
// sees the host's file at the same path: a command in the home folder or in
// a persistent folder may exist only inside (torbrowser-launcher installs
// Tor Browser there), and is left to the sandbox's init to find.
func missingApp(p *profile.Profile, command []string) bool {
	if len(p.Command) == 0 || len(command) == 0 || command[0] != p.Command[0] || !filepath.IsAbs(command[0]) {
		return false
	}
	home := sandbox.CurrentAccount().Home
	inside := []string{home}
	for _, ps := range p.Persist {
		inside = append(inside, profile.ExpandHome(ps.Sandbox, home))
	}
	for _, d := range inside {
		if strings.HasPrefix(command[0], filepath.Clean(d)+"/") {
			return false
		}
	}
	if _, err := os.Stat(command[0]); !errors.Is(err, os.ErrNotExist) {
		return false
	}
	if len(p.Packages) > 0 {
		errorf("%s", i18n.T("%s is not installed (profile %s runs it). Install it with:\n  sudo apt install %s", command[0], p.Name, strings.Join(p.Packages, " ")))
	} else {
		errorf("%s", i18n.T("%s is not installed (profile %s runs it)", command[0], p.Name))
	}
	return true
}

func callCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 10*time.Second)
}

func isProfile(name string) bool {
	if strings.ContainsRune(name, '/') {
		return strings.HasSuffix(name, ".toml")
	}
	m, _ := profile.List()
	_, ok := m[name]
	return ok
}

func cmdPs(args []string) int {
	if len(args) != 0 {
		fmt.Fprint(stderr, usage())
		return exitUsage
	}
	recs, err := sandbox.List()
	if err != nil {
		errorf("%v", err)
		return exitFailed
	}
	// The broker's view: which sandboxes it serves a bus and grants for.
	// Without a running broker the column says "-".
	served := map[string]int{}
	portal := false
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") != "" {
		ctx, cancel := callCtx()
		if c, err := control.ConnectRunning(ctx); err == nil {
			if list, err := c.List(ctx); err == nil {
				portal = true
				for _, sb := range list {
					gs, _ := c.Grants(ctx, sb.ID)
					served[sb.ID] = len(gs)
				}
			}
			c.Close()
		}
		cancel()
	}
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, i18n.T("ID\tNAME\tPROFILE\tPID\tUPTIME\tPORTAL\tCOMMAND"))
	for _, r := range recs {
		state := "-"
		if n, ok := served[r.ID]; ok {
			state = i18n.T("yes, %d grants", n)
		} else if portal {
			state = i18n.T("no")
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%s\t%s\t%s\n", r.ID, r.Name, r.Profile, r.Pid, time.Since(r.Started).Round(time.Second), state, strings.Join(r.Command, " "))
	}
	w.Flush()
	return 0
}

var signals = map[string]syscall.Signal{"TERM": syscall.SIGTERM, "KILL": syscall.SIGKILL, "INT": syscall.SIGINT, "HUP": syscall.SIGHUP, "USR1": syscall.SIGUSR1, "USR2": syscall.SIGUSR2, "QUIT": syscall.SIGQUIT}

func cmdKill(args []string) int {
	fs := flag.NewFlagSet("kill", flag.ContinueOnError)
	fs.SetOutput(stderr)
	sigName := fs.String("signal", "TERM", "signal name or number")
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 {
		fmt.Fprint(stderr, usage())
		return exitUsage
	}
	sig, ok := signals[strings.TrimPrefix(strings.ToUpper(*sigName), "SIG")]
	if !ok {
		var n int
		if _, err := fmt.Sscanf(*sigName, "%d", &n); err != nil || n <= 0 || n > 64 {
			errorf("%s", i18n.T("unknown signal %q", *sigName))
			return exitUsage
		}
		sig = syscall.Signal(n)
	}
	r, err := sandbox.Lookup(fs.Arg(0))
	if err != nil {
		errorf("%v", err)
		return exitFailed
	}
	// Signal init, which forwards to the application; SIGKILL ends the
	// whole pid namespace at once.
	if err := syscall.Kill(r.Pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		errorf("%s", i18n.T("cannot signal sandbox %s: %v", r.ID, err))
		return exitFailed
	}
	return 0
}

func cmdProfiles() int {
	m, _ := profile.List()
	if len(m) == 0 {
		// An uninstalled airlock (no data/profiles beside it, nothing in
		// PREFIX/share) says where it looked rather than print an empty table.
		errorf("%s", i18n.T("no profiles found (searched %s): install Airlock (meson install) or set AIRLOCK_DATADIR to the folder that holds profiles/", strings.Join(profile.Dirs(), ", ")))
		return exitFailed
	}
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, i18n.T("NAME\tDISPLAY NAME\tNET\tDISPLAY\tFILE"))
	for _, n := range names {
		p, err := profile.LoadFile(m[n])
		if err != nil {
			fmt.Fprintf(w, "%s\t%s\t\t\t%s\n", n, i18n.T("(invalid: %v)", err), m[n])
			continue
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", n, p.DisplayName, p.Net, p.Display, m[n])
	}
	w.Flush()
	return 0
}

func cmdProfileShow(name string) int {
	p, err := profile.Find(name)
	if err != nil {
		errorf("%v", err)
		return exitFailed
	}
	fmt.Fprint(stdout, p.Show())
	return 0
}

// withPortal runs call against the running broker (never starting one) and
// turns its failure into the command's exit status.
func withPortal(call func(ctx context.Context, c *control.Client) error) int {
	ctx, cancel := callCtx()
	defer cancel()
	c, err := control.ConnectRunning(ctx)
	if err != nil {
		errorf("%s", i18n.T("cannot reach airlock-portal: %v", err))
		return exitFailed
	}
	defer c.Close()
	if err := call(ctx, c); err != nil {
		errorf("%v", err)
		return exitFailed
	}
	return 0
}

// sandboxID resolves an id, id prefix or name to a running sandbox's id.
func sandboxID(key string) (string, bool) {
	r, err := sandbox.Lookup(key)
	if err != nil {
		errorf("%v", err)
		return "", false
	}
	return r.ID, true
}

func cmdGrant(args []string) int {
	fs := flag.NewFlagSet("grant", flag.ContinueOnError)
	fs.SetOutput(stderr)
	rw := fs.Bool("rw", false, "writable")
	if err := fs.Parse(args); err != nil || fs.NArg() != 2 {
		fmt.Fprint(stderr, usage())
		return exitUsage
	}
	id, ok := sandboxID(fs.Arg(0))
	if !ok {
		return exitFailed
	}
	path, err := filepath.Abs(fs.Arg(1))
	if err == nil {
		path, err = filepath.EvalSymlinks(path)
	}
	if err != nil {
		errorf("%s", i18n.T("cannot grant %s: %v", fs.Arg(1), err))
		return exitFailed
	}
	return withPortal(func(ctx context.Context, c *control.Client) error {
		g, err := c.Grant(ctx, id, path, *rw)
		if err == nil {
			fmt.Fprintf(stdout, "%s\t%s\n", g.DocID, g.Inside)
		}
		return err
	})
}

func cmdGrants(args []string) int {
	if len(args) > 1 {
		fmt.Fprint(stderr, usage())
		return exitUsage
	}
	id := ""
	if len(args) == 1 {
		var ok bool
		if id, ok = sandboxID(args[0]); !ok {
			return exitFailed
		}
	}
	return withPortal(func(ctx context.Context, c *control.Client) error {
		gs, err := c.Grants(ctx, id)
		if err != nil {
			return err
		}
		printGrants(gs)
		return nil
	})
}

func printGrants(gs []grant.Grant) {
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, i18n.T("SANDBOX\tDOC\tMODE\tHOST PATH\tINSIDE"))
	for _, g := range gs {
		mode := "ro"
		if g.Writable {
			mode = "rw"
		}
		if g.Dir {
			mode += ",dir"
		}
		if g.Native {
			// Revoking it cannot cut what the application opened.
			mode += ",native"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", g.Sandbox, g.DocID, mode, g.HostPath, g.Inside)
	}
	w.Flush()
}

func cmdRevoke(args []string) int {
	if len(args) != 2 {
		fmt.Fprint(stderr, usage())
		return exitUsage
	}
	id, ok := sandboxID(args[0])
	if !ok {
		return exitFailed
	}
	return withPortal(func(ctx context.Context, c *control.Client) error {
		native, err := c.Revoke(ctx, id, args[1])
		if err == nil && native {
			// Honest about what a revocation of a native bind cannot do: the
			// mount a descriptor was opened through lives as long as it.
			errorf("%s", i18n.T("warning: document %s is gone from the sandbox, but its profile binds read-only files natively (grants = \"native-irrevocable\"): a copy the application already opened stays readable, also reopened through /proc/self/fd, until the sandbox ends", args[1]))
		}
		return err
	})
}
