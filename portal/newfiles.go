package main

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"airlock/chooser-ui/protocol"
	"airlock/portal/broker"
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

	// unknown serialises the questions of sandboxes without a label.
	unknown sync.Mutex

	// mu guards labels.
	mu sync.Mutex
	// labels are the display names and icons of sandboxes by id. A
	// sandbox's last questions come after it ended (docstore asks when its
	// grants end), so a label outlives its sandbox for a while.
	labels map[string]sandboxLabel
}

type sandboxLabel struct {
	name, icon string
	ended      time.Time // zero while the sandbox runs
	// one makes a sandbox's questions come one after the other, never as
	// a pile of windows; another sandbox's questions do not wait for them.
	one *sync.Mutex
}

// labelGrace is how long a label is kept after its sandbox ended.
const labelGrace = 10 * time.Minute

func newNewFileAsker(log *slog.Logger, dialog filechooser.Dialog) *newFileAsker {
	return &newFileAsker{log: log, dialog: dialog, labels: map[string]sandboxLabel{}}
}

// hooks adds the label bookkeeping to the broker's hooks.
func (a *newFileAsker) hooks(h broker.Hooks) broker.Hooks {
	reg, unreg := h.OnRegister, h.OnUnregister
	h.OnRegister = func(sb *broker.Sandbox) {
		now := time.Now()
		a.mu.Lock()
		for id, l := range a.labels {
			if !l.ended.IsZero() && now.Sub(l.ended) > labelGrace {
				delete(a.labels, id)
			}
		}
		a.labels[sb.ID] = sandboxLabel{name: sb.DisplayName, icon: sb.Icon, one: &sync.Mutex{}}
		a.mu.Unlock()
		if reg != nil {
			reg(sb)
		}
	}
	h.OnUnregister = func(sb *broker.Sandbox) {
		a.mu.Lock()
		if l, ok := a.labels[sb.ID]; ok {
			l.ended = time.Now()
			a.labels[sb.ID] = l
		}
		a.mu.Unlock()
		if unreg != nil {
			unreg(sb)
		}
	}
	return h
}

// ask is docstore's OnNewFile handler: it runs on a goroutine of its own and
// always ends the NewFile. A sandbox has at most one question on screen;
// docstore caps how many can wait (16 per grant).
func (a *newFileAsker) ask(n *docstore.NewFile) {
	a.mu.Lock()
	l, ok := a.labels[n.Sandbox]
	a.mu.Unlock()
	if !ok || l.name == "" {
		l.name = n.Sandbox
	}
	if l.one == nil {
		l.one = &a.unknown
	}
	l.one.Lock()
	defer l.one.Unlock()
	select {
	case <-n.Moot():
		n.KeepUnasked("withdrawn") // ErrGone: the app itself resolved it
		return
	default:
	}
	req := protocol.Request{
		Mode:           protocol.ModeNewFile,
		SandboxName:    l.name,
		SandboxIcon:    l.icon,
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
		a.log.Info("question withdrawn: the app resolved the file itself", "sandbox", l.name, "name", n.Name)
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
			a.log.Info("the user kept a new file", "sandbox", l.name, "path", p)
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
