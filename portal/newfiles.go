package main

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"airlock/chooser-ui/protocol"
	"airlock/portal/docstore"
	"airlock/portal/filechooser"
)

// newFileTimeout is how long a "Keep it?" question waits for the user. It
// is long: an unanswered question keeps the file anyway (unasked, under a
// visible name), so the timeout only bounds how long a chooser process runs.
const newFileTimeout = 15 * time.Minute

// newFileAsker asks the user, in airlock-chooser, whether to keep a file a
// sandbox saved beside a granted file (docstore's NewFile). The default when
// no answer comes (dialog closed, timed out, not shown) is to keep the file:
// losing data without the user's word is the failure this exists to prevent,
// and docstore keeps it under a visible name that replaces nothing.
type newFileAsker struct {
	log    *slog.Logger
	dialog filechooser.Dialog

	// mu guards one.
	mu sync.Mutex
	// one makes a sandbox's questions come one after the other, never as a
	// pile of windows; another sandbox's questions do not wait for them.
	// An entry lives while questions of that sandbox wait.
	one map[string]*queue
}

// queue serialises one sandbox's questions; n counts the waiting ones.
type queue struct {
	sync.Mutex
	n int
}

func newNewFileAsker(log *slog.Logger, dialog filechooser.Dialog) *newFileAsker {
	return &newFileAsker{log: log, dialog: dialog, one: map[string]*queue{}}
}

// turn waits for the sandbox's earlier questions; the returned function
// ends this one's turn.
func (a *newFileAsker) turn(sandbox string) func() {
	a.mu.Lock()
	q := a.one[sandbox]
	if q == nil {
		q = &queue{}
		a.one[sandbox] = q
	}
	q.n++
	a.mu.Unlock()
	q.Lock()
	return func() {
		q.Unlock()
		a.mu.Lock()
		if q.n--; q.n == 0 {
			delete(a.one, sandbox)
		}
		a.mu.Unlock()
	}
}

// ask is docstore's OnNewFile handler: it runs on a goroutine of its own and
// always ends the NewFile. A sandbox has at most one question on screen;
// docstore caps how many can wait (16 per grant).
func (a *newFileAsker) ask(n *docstore.NewFile) {
	l := n.Label
	if l.Name == "" {
		l.Name = n.Sandbox
	}
	defer a.turn(n.Sandbox)()
	select {
	case <-n.Moot():
		n.KeepUnasked("withdrawn") // ErrGone: the app itself resolved it
		return
	default:
	}
	req := protocol.Request{
		Mode:           protocol.ModeNewFile,
		SandboxName:    l.Name,
		SandboxIcon:    l.Icon,
		SandboxColor:   l.Color,
		TimeoutSeconds: int(newFileTimeout / time.Second),
		NewFile:        &protocol.NewFile{Name: n.Name, Size: n.Size, Beside: n.Beside, Folder: n.Folder, HostName: n.HostName()},
	}
	if err := protocol.Validate(&req); err != nil {
		n.KeepUnasked("cannot ask: " + err.Error())
		return
	}
	// The dialog is withdrawn when the app itself resolves the file
	// meanwhile (a slow save renamed over the granted file after all).
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-n.Moot():
			cancel()
		case <-ctx.Done():
		}
	}()
	resp, err := a.dialog(ctx, req)
	select {
	case <-n.Moot():
		a.log.Info("question withdrawn: the app resolved the file itself", "sandbox", l.Name, "name", n.Name)
		n.KeepUnasked("withdrawn")
		return
	default:
	}
	var reason string
	switch {
	case err != nil:
		reason = "the dialog could not be shown: " + err.Error()
	case resp.Response == protocol.ResponseSuccess && resp.Answer == protocol.AnswerKeep:
		if p, err := n.Keep(); err != nil {
			a.log.Warn("cannot keep a new file", "sandbox", n.Sandbox, "name", n.Name, "err", err)
		} else {
			a.log.Info("the user kept a new file", "sandbox", l.Name, "path", p)
		}
		return
	case resp.Response == protocol.ResponseSuccess && resp.Answer == protocol.AnswerDiscard:
		if err := n.Discard(); err != nil && !errors.Is(err, docstore.ErrGone) {
			a.log.Warn("cannot discard a new file", "sandbox", n.Sandbox, "name", n.Name, "err", err)
		}
		return
	case resp.Response == protocol.ResponseCancelled:
		reason = "the user closed the dialog without answering"
	default:
		reason = "the dialog ended without an answer: " + resp.Error
	}
	n.KeepUnasked(reason)
}
