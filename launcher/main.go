// Command airlock runs desktop applications in unprivileged sandboxes.
package main

import (
	"os"

	"airlock/launcher/cli"
	"airlock/launcher/nestedwm"
	"airlock/launcher/sandbox"
)

func init() {
	// The re-executed init stage: dispatch before main, like runc's init.go.
	if len(os.Args) > 0 && os.Args[0] == sandbox.InitArg0 {
		sandbox.InitMain()
	}
	// The confined nested X server of display = "xephyr", started by the
	// launcher before the sandbox.
	if len(os.Args) > 0 && os.Args[0] == sandbox.XephyrArg0 {
		sandbox.XephyrMain()
	}
	// The nested display's window manager: first the stage that confines
	// it, then the window manager itself (a re-exec by that stage).
	if len(os.Args) > 0 && os.Args[0] == sandbox.WMConfineArg0 {
		sandbox.WMConfineMain()
	}
	if len(os.Args) > 0 && os.Args[0] == nestedwm.Arg0 {
		nestedwm.Main()
	}
	// The host-view helper of native grants, started by init.
	if len(os.Args) > 0 && os.Args[0] == sandbox.HostViewArg0 {
		sandbox.HostViewMain()
	}
}

func main() {
	os.Exit(cli.Main(os.Args[1:]))
}
