// Command airlock-chooser is Airlock's trusted file chooser. The broker
// (airlock-portal) spawns it on the host display once per dialog, writes one
// protocol.Request as JSON on its stdin and reads one protocol.Response from
// its stdout. It always prints a response and exits 0, also on cancel and
// error; diagnostics go to stderr.
package main

import (
	"encoding/json"
	"io"
	"log"
	"os"
	"runtime"
	"sync"
	"syscall"
	"time"

	"airlock/chooser-ui/clipboard"
	"airlock/chooser-ui/filechooser"
	"airlock/chooser-ui/manager"
	"airlock/chooser-ui/newfile"
	"airlock/chooser-ui/openuri"
	chooserprint "airlock/chooser-ui/print"
	"airlock/chooser-ui/protocol"
)

// GTK must only ever run on the main OS thread.
func init() { runtime.LockOSThread() }

const maxRequest = 1 << 20

func main() {
	log.SetFlags(0)
	log.SetPrefix("airlock-chooser: ")

	// The response channel is a private copy of stdout; fd 1 then points at
	// stderr, so that nothing GTK or a loaded module prints can corrupt it.
	out := os.Stdout
	if fd, err := syscall.Dup(1); err == nil {
		syscall.CloseOnExec(fd)
		out = os.NewFile(uintptr(fd), "response")
		if err := syscall.Dup3(2, 1, 0); err != nil {
			log.Printf("cannot redirect stdout: %v", err)
		}
	}
	// The grant manager (airlock manager) is a window that stays: states
	// in on stdin, actions out on the response channel, one JSON object a
	// line.
	if len(os.Args) == 2 && os.Args[1] == protocol.ManagerFlag {
		os.Exit(manager.Main(os.Stdin, out))
	}
	var once sync.Once
	respond := func(r protocol.Response) {
		once.Do(func() {
			if err := json.NewEncoder(out).Encode(r); err != nil {
				log.Printf("cannot write response: %v", err)
			}
		})
	}

	// Started ahead of need by the broker (AIRLOCK_CHOOSER_PRESTART=1):
	// GTK is set up before the request arrives, so that the dialog shows
	// as soon as an application asks. The process still serves exactly
	// one dialog, and has seen nothing of any sandbox before its request.
	var initErr error
	initialized := false
	if os.Getenv("AIRLOCK_CHOOSER_PRESTART") == "1" {
		initErr, initialized = filechooser.Init(), true
		if initErr == nil {
			filechooser.Warm()
			// Not blocked in read(2): a GTK process that does not run
			// its main loop hangs every screen reader that asks it
			// anything.
			filechooser.WaitRequest(0)
		}
	}

	var req protocol.Request
	if err := json.NewDecoder(io.LimitReader(os.Stdin, maxRequest)).Decode(&req); err != nil {
		respond(filechooser.Errorf("invalid request: %v", err))
		return
	}
	if err := protocol.Validate(&req); err != nil {
		respond(filechooser.Errorf("invalid request: %v", err))
		return
	}
	if req.TimeoutSeconds > 0 {
		// Backstop only, and it never touches GTK: the dialog's own timer
		// (a GLib source on the main thread) normally answers first.
		go func() {
			time.Sleep(time.Duration(req.TimeoutSeconds)*time.Second + 10*time.Second)
			respond(filechooser.Errorf("timed out"))
			os.Exit(0)
		}()
	}
	if !initialized {
		initErr = filechooser.Init()
	}
	if initErr != nil {
		respond(filechooser.Errorf("%v", initErr))
		return
	}
	if req.Mode == protocol.ModeNewFile {
		respond(newfile.Run(&req, filechooser.Icon(req.SandboxIcon)))
		return
	}
	if req.Mode == protocol.ModeNotice {
		respond(clipboard.Notice(&req, filechooser.Icon(req.SandboxIcon)))
		return
	}
	if req.Mode == protocol.ModeClipboard {
		respond(clipboard.Run(&req, filechooser.Icon(req.SandboxIcon)))
		return
	}
	if req.Mode == protocol.ModePrint {
		respond(chooserprint.Run(&req, filechooser.Icon(req.SandboxIcon)))
		return
	}
	if req.Mode == protocol.ModeOpenURI {
		respond(openuri.Run(&req, filechooser.Icon(req.SandboxIcon)))
		return
	}
	respond(filechooser.Run(&req))
}
