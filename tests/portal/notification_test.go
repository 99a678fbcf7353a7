package portal_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// hostNote is one call the host's notification server received.
type hostNote struct {
	Call       string         `json:"call"`
	ID         uint32         `json:"id"`
	AppName    string         `json:"app_name"`
	ReplacesID uint32         `json:"replaces_id"`
	AppIcon    string         `json:"app_icon"`
	Summary    string         `json:"summary"`
	Body       string         `json:"body"`
	Actions    []string       `json:"actions"`
	Hints      map[string]any `json:"hints"`
	Timeout    int32          `json:"timeout"`
}

func readNotes(t *testing.T, path string) []hostNote {
	t.Helper()
	b, _ := os.ReadFile(path)
	var out []hostNote
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if l == "" {
			continue
		}
		var n hostNote
		if err := json.Unmarshal([]byte(l), &n); err != nil {
			t.Fatalf("bad record %q: %v", l, err)
		}
		out = append(out, n)
	}
	return out
}

// TestNotificationsFromInside: a hostile application inside a sandbox sends
// issue 8's notifications straight to org.freedesktop.Notifications and
// through the portal; a notification server on the host session bus records
// what it receives. Everything arrives filtered and named after the
// sandbox, a button click on the host comes back to the application as the
// portal's ActionInvoked, and a flood is capped.
func TestNotificationsFromInside(t *testing.T) {
	t.Parallel()
	needBins(t, "/usr/bin/python3")
	s := newSession(t)
	rec := filepath.Join(s.e.UserDir(t), "notes.jsonl")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	server := start(t, s.e.Command(ctx, "/usr/bin/python3", script(t, "fake_notifyd.py"), rec), cancel)
	waitFor(t, 30*time.Second, "the fake notification server", func() bool {
		return server.exited() || strings.Contains(readFile(rec), "READY")
	})
	if server.exited() {
		t.Fatalf("fake notification server ended: %v", server.res)
	}

	const name = "Notes Test"
	py := script(t, "notify_client.py")
	r := s.run(t, "run", "--name", name, "--ro", py, "--", "/usr/bin/python3", py)
	if r.Code != 0 {
		t.Fatalf("sandbox failed: %v\nportal log:\n%s", r, s.portalLog())
	}
	out := kv(r.Stdout)
	t.Logf("client:\n%s", r.Stdout)

	var notes []hostNote
	for _, n := range readNotes(t, rec) {
		if n.Call == "Notify" {
			notes = append(notes, n)
		}
	}
	if len(notes) < 2 {
		t.Fatalf("the host received %d notifications:\n%s", len(notes), readFile(rec))
	}

	// Every notification carries the sandbox's name and nothing else.
	for _, n := range notes {
		if n.AppName != name {
			t.Errorf("app_name %q reached the host, want %q", n.AppName, name)
		}
		for k := range n.Hints {
			if k != "urgency" && k != "category" && k != "suppress-sound" {
				t.Errorf("hint %q reached the host", k)
			}
		}
		if strings.Contains(n.AppIcon, "/") {
			t.Errorf("icon path %q reached the host", n.AppIcon)
		}
		for _, bad := range []string{"<a", "href", "<img", "evil.example", "/etc/"} {
			if strings.Contains(n.Summary+n.Body, bad) {
				t.Errorf("%q reached the host in %q / %q", bad, n.Summary, n.Body)
			}
		}
	}

	direct := notes[0]
	if out["direct"] == "" || direct.Summary != "Upgrade now" || direct.Body != "Click  <b>bold</b>" {
		t.Errorf("direct Notify: client %q, host got %+v", out["direct"], direct)
	}
	if got := strings.Join(direct.Actions, ","); got != "default,Open,ok,OK" {
		t.Errorf("direct Notify actions at the host: %q, want only the plain ids", got)
	}
	if u, _ := direct.Hints["urgency"].(float64); u != 2 || len(direct.Hints) != 1 {
		t.Errorf("direct Notify hints at the host: %v, want urgency 2 alone", direct.Hints)
	}
	if direct.Timeout != -1 {
		t.Errorf("direct Notify timeout %d, want -1 (0 pins it on screen)", direct.Timeout)
	}
	if strings.Contains(out["caps"], "body-hyperlinks") || strings.Contains(out["caps"], "body-images") || !strings.Contains(out["caps"], "body-markup") {
		t.Errorf("capabilities inside: %q", out["caps"])
	}

	portal := notes[1]
	if out["version"] != "2" || out["portal"] != "ok" {
		t.Errorf("portal: version %q, AddNotification %q", out["version"], out["portal"])
	}
	if portal.Summary != "click me" || portal.Body != "from the portal &lt;b&gt;" || portal.AppIcon != "mail-unread" {
		t.Errorf("portal notification at the host: %+v", portal)
	}
	if got := strings.Join(portal.Actions, ","); !strings.HasPrefix(got, "default,") || !strings.HasSuffix(got, ",b0,Reply") || strings.Contains(got, "app.") {
		t.Errorf("portal actions at the host: %q, want the broker's keys only", got)
	}
	if u, _ := portal.Hints["urgency"].(float64); u != 2 {
		t.Errorf("portal priority urgent became hints %v", portal.Hints)
	}
	if got := out["action"]; got != "msg-1|app.reply|thread-7" {
		t.Errorf("ActionInvoked inside: %q, want msg-1|app.reply|thread-7", got)
	}

	// The flood: the burst (less the two above) and about one a second.
	okN, _ := strconv.Atoi(out["flood-ok"])
	refused, _ := strconv.Atoi(out["flood-refused"])
	secs, _ := strconv.ParseFloat(out["flood-seconds"], 64)
	if out["flood-other"] != "" || refused < 150 || float64(okN) > 8+secs+2 {
		t.Errorf("flood of 200 in %.1fs: %d sent, %d refused, other errors %q", secs, okN, refused, out["flood-other"])
	}
	if len(notes) != 2+okN {
		t.Errorf("the host received %d notifications, the sandbox was told %d", len(notes), 2+okN)
	}
	if n := strings.Count(s.portalLog(), "too many notifications"); n != 1 || !strings.Contains(s.portalLog(), name) {
		t.Errorf("%d refusal lines in the portal log, want 1 naming %q:\n%s", n, name, tail(s.portalLog(), 20))
	}
}
