package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/godbus/dbus/v5"

	"airlock/chooser-ui/protocol"
	"airlock/po/i18n"
	"airlock/portal/control"
)

// cmdManager opens the grant manager: a window of Airlock's trusted UI
// (airlock-chooser --manager) that this command feeds with the broker's
// sandboxes and grants whenever the broker signals a change, and whose
// actions it carries out through the control interface, as airlock grant,
// revoke and kill would. It ends when the window is closed.
func cmdManager(args []string) int {
	if len(args) != 0 {
		fmt.Fprint(stderr, usage())
		return exitUsage
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	c, err := control.Connect(ctx)
	cancel()
	if err != nil {
		errorf("%s", i18n.T("cannot reach airlock-portal: %v", err))
		return exitFailed
	}
	defer c.Close()
	sigs := make(chan *dbus.Signal, 64)
	if err := c.WatchChanges(sigs); err != nil {
		errorf("%s", i18n.T("cannot follow airlock-portal's changes: %v", err))
		return exitFailed
	}
	bin, err := chooserBinary()
	if err != nil {
		errorf("%v", err)
		return exitFailed
	}
	cmd := exec.Command(bin, protocol.ManagerFlag)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		errorf("%v", err)
		return exitFailed
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		errorf("%v", err)
		return exitFailed
	}
	if err := cmd.Start(); err != nil {
		errorf("%s", i18n.T("cannot start %s: %v", bin, err))
		return exitFailed
	}
	actions := make(chan protocol.ManagerAction)
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 8<<10), 64<<10)
		for sc.Scan() {
			var a protocol.ManagerAction
			if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
				continue
			}
			actions <- a
		}
	}()
	enc := json.NewEncoder(in)
	send := func(msg string) {
		st := snapshot(c)
		if msg != "" {
			st.Error = msg
		}
		if err := enc.Encode(st); err != nil {
			errorf("%s", i18n.T("cannot update the manager's window: %v", err))
		}
	}
	send("")
	for {
		select {
		case <-done:
			in.Close()
			if err := cmd.Wait(); err != nil {
				// It said why on stderr (no display, say).
				errorf("%s", i18n.T("the manager's window ended: %v", err))
				return exitFailed
			}
			return 0
		case _, ok := <-sigs:
			if !ok {
				errorf("%s", i18n.T("lost the session bus"))
				in.Close()
				cmd.Wait()
				return exitFailed
			}
			// A burst of changes (a sandbox ending takes its grants
			// along) is one update.
			for drained := false; !drained; {
				select {
				case <-sigs:
				default:
					drained = true
				}
			}
			send("")
		case a := <-actions:
			send(act(c, a))
		}
	}
}

// act carries out one action of the manager and says what went wrong ("").
func act(c *control.Client, a protocol.ManagerAction) string {
	if err := protocol.CheckAction(&a); err != nil {
		return i18n.T("Refused a bad request: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	switch a.Action {
	case protocol.ActionGrant:
		if _, err := c.Grant(ctx, a.Sandbox, a.Path, a.Writable); err != nil {
			return i18n.T("Cannot add %s: %v", a.Path, dbusMessage(err))
		}
	case protocol.ActionRevoke:
		native, err := c.Revoke(ctx, a.Sandbox, a.Doc)
		if err != nil {
			return i18n.T("Cannot revoke: %v", dbusMessage(err))
		}
		if native {
			return i18n.T("Revoked, but this profile binds read-only files natively: a copy the application already opened stays readable until the sandbox ends.")
		}
	case protocol.ActionEnd:
		if err := c.End(ctx, a.Sandbox); err != nil {
			return i18n.T("Cannot end the sandbox: %v", dbusMessage(err))
		}
	}
	return ""
}

// dbusMessage is an error's message without the D-Bus error name.
func dbusMessage(err error) string {
	var de dbus.Error
	if errors.As(err, &de) && len(de.Body) > 0 {
		if s, ok := de.Body[0].(string); ok {
			return s
		}
	}
	return err.Error()
}

// snapshot is what the manager shows now: every sandbox with its grants.
func snapshot(c *control.Client) protocol.ManagerState {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st := protocol.ManagerState{Sandboxes: []protocol.ManagedSandbox{}}
	infos, err := c.Describe(ctx)
	if err != nil {
		st.Error = i18n.T("Cannot list the sandboxes: %v", dbusMessage(err))
		return st
	}
	all, _ := c.Grants(ctx, "")
	for _, in := range infos {
		sb := protocol.ManagedSandbox{ID: in.ID, Name: in.Name, Profile: in.Profile, Network: in.Network,
			Display: in.Display, Color: in.Color, Started: in.Started, Grants: []protocol.ManagedGrant{}}
		times, _ := c.GrantTimes(ctx, in.ID)
		for _, g := range all {
			if g.Sandbox != in.ID {
				continue
			}
			sb.Grants = append(sb.Grants, protocol.ManagedGrant{Doc: g.DocID, HostPath: g.HostPath, Writable: g.Writable,
				Dir: g.Dir, Native: g.Native, Since: times[g.DocID]})
		}
		st.Sandboxes = append(st.Sandboxes, sb)
	}
	return st
}

// chooserBinary finds airlock-chooser: $AIRLOCK_CHOOSER, beside this
// binary, then PATH (as the broker finds it).
func chooserBinary() (string, error) {
	if p := os.Getenv("AIRLOCK_CHOOSER"); p != "" {
		return p, nil
	}
	if exe, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(exe), "airlock-chooser")
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p, nil
		}
	}
	p, err := exec.LookPath("airlock-chooser")
	if err != nil {
		return "", errors.New(i18n.T("airlock-chooser is not installed (not beside airlock, not on PATH)"))
	}
	return p, nil
}
