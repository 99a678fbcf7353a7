package manager

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"os"
	"runtime"
	"sync"
	"time"

	"airlock/chooser-ui/gtk"
	"airlock/chooser-ui/protocol"
	"airlock/po/i18n"
)

// WindowRole names the manager's process (WM_CLASS) and window role.
const WindowRole = "airlock-manager"

// maxState caps one state line from the launcher.
const maxState = 16 << 20

// states reads the launcher's states from in, keeping only the newest, and
// wakes the GTK thread through a pipe: it never touches GTK itself.
type states struct {
	mu     sync.Mutex
	latest *protocol.ManagerState // nil: nothing new
	ended  bool                   // in ended: the launcher is gone
}

func (s *states) read(in io.Reader, wake *os.File) {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), maxState)
	for sc.Scan() {
		var st protocol.ManagerState
		if err := json.Unmarshal(sc.Bytes(), &st); err != nil {
			log.Printf("ignoring a bad state from the launcher: %v", err)
			continue
		}
		protocol.CleanState(&st)
		s.mu.Lock()
		s.latest = &st
		s.mu.Unlock()
		wake.Write([]byte{1})
	}
	s.mu.Lock()
	s.ended = true
	s.mu.Unlock()
	wake.Write([]byte{1})
}

func (s *states) take() (*protocol.ManagerState, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.latest
	s.latest = nil
	return st, s.ended
}

// Main shows the manager until its window is closed or in ends, writing
// the user's actions on out. Main thread only.
func Main(in io.Reader, out io.Writer) int {
	if err := gtk.Init(WindowRole); err != nil {
		log.Printf("%v", err)
		return 1
	}
	wakeR, wakeW, err := os.Pipe()
	if err != nil {
		log.Printf("%v", err)
		return 1
	}
	var src states
	go src.read(in, wakeW)
	win := gtk.NewManagerWindow(words(), int(wakeR.Fd()))
	defer runtime.KeepAlive(wakeR)
	m := &mgr{win: win, enc: json.NewEncoder(out), st: &protocol.ManagerState{}, trace: os.Getenv("AIRLOCK_CHOOSER_TRACE")}
	m.show()
	for {
		ev := win.Wait()
		if ev&gtk.EventClose != 0 {
			win.Destroy()
			return 0
		}
		if ev&gtk.EventWake != 0 {
			st, ended := src.take()
			if ended && st == nil {
				win.Destroy()
				return 0
			}
			if st != nil {
				m.st = st
				m.win.SetStatus(st.Error)
				m.traceStatus(st.Error)
				m.show()
			}
		} else if ev&gtk.EventTick != 0 {
			m.show()
		} else if ev&gtk.EventSelect != 0 {
			m.showGrants()
		}
		switch {
		case ev&gtk.EventRevoke != 0:
			m.revoke()
		case ev&gtk.EventEnd != 0:
			m.end()
		case ev&gtk.EventAddFile != 0:
			m.add(false)
		case ev&gtk.EventAddFolder != 0:
			m.add(true)
		}
	}
}

type mgr struct {
	win   *gtk.ManagerWindow
	enc   *json.Encoder
	st    *protocol.ManagerState
	trace string
}

// show redraws both lists from the state, keeping the selections.
func (m *mgr) show() {
	m.win.SetSandboxes(sandboxRows(m.st, time.Now()), m.win.SelectedSandbox())
	m.showGrants()
}

func (m *mgr) showGrants() {
	id := m.win.SelectedSandbox()
	m.win.SetGrants(grantRows(m.st, id, time.Now()), m.win.SelectedGrant())
	m.win.SetSensitive(id != "", m.win.SelectedGrant() != "")
	if m.trace != "" {
		m.win.Trace(m.trace)
	}
}

func (m *mgr) send(a protocol.ManagerAction) {
	if err := m.enc.Encode(a); err != nil {
		log.Printf("cannot write to the launcher: %v", err)
	}
}

func (m *mgr) revoke() {
	id, doc := m.win.SelectedSandbox(), m.win.SelectedGrant()
	if findGrant(find(m.st, id), doc) == nil {
		return
	}
	m.send(protocol.ManagerAction{Action: protocol.ActionRevoke, Sandbox: id, Doc: doc})
}

func (m *mgr) end() {
	sb := find(m.st, m.win.SelectedSandbox())
	if sb == nil {
		return
	}
	primary, secondary := endQuestion(sb)
	if m.win.Confirm(i18n.T("End Sandbox?"), primary, secondary, i18n.T("_Cancel"), i18n.T("_End Sandbox")) {
		m.send(protocol.ManagerAction{Action: protocol.ActionEnd, Sandbox: sb.ID})
	}
}

// add asks for files (or a folder) in Airlock's chooser and grants them to
// the selected sandbox, read-only unless the user ticks the switch.
func (m *mgr) add(folder bool) {
	sb := find(m.st, m.win.SelectedSandbox())
	if sb == nil {
		return
	}
	action, title := gtk.ActionOpen, i18n.T("Add Files to “%s”", sb.Name)
	if folder {
		action, title = gtk.ActionSelectFolder, i18n.T("Add a Folder to “%s”", sb.Name)
	}
	d := gtk.NewFileChooserDialog(title, action, i18n.T("_Cancel"), i18n.T("_Add"))
	defer d.Destroy()
	d.SetWindow("security-high", WindowRole+"-chooser")
	d.SetAccessible(title, i18n.T("The files you choose become visible in this sandbox"))
	d.AddHeader("security-high", title)
	d.HeaderColor(sb.Color)
	d.Switch("airlock.writable", i18n.T("_Writable: the sandbox can change it"), false)
	d.SetLocalOnly(true)
	d.SetSelectMultiple(!folder)
	if m.trace != "" {
		if err := d.TraceEntries(m.trace); err != nil {
			log.Printf("%v", err)
		}
	}
	if d.Run() != gtk.ResultAccept {
		return
	}
	writable := d.Choice("airlock.writable") == "true"
	paths := d.Filenames()
	d.Hide()
	for _, p := range paths {
		m.send(protocol.ManagerAction{Action: protocol.ActionGrant, Sandbox: sb.ID, Path: p, Writable: writable})
	}
}

// traceStatus appends the status line to the trace (tests only).
func (m *mgr) traceStatus(text string) {
	if m.trace == "" || text == "" {
		return
	}
	f, err := os.OpenFile(m.trace, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return
	}
	defer f.Close()
	fmt.Fprintf(f, "status %s\n", text)
}
