package sandbox

import (
	"log/slog"
	"strings"
	"testing"

	"airlock/launcher/nestedwm"
	"airlock/launcher/profile"
)

// TestDryRunShowsWMPlan: the window manager's own sandbox is in the plan
// (with the nested display's socket and cookie and nothing else of the
// host's but its libraries), and absent with window_manager = "none".
func TestDryRunShowsWMPlan(t *testing.T) {
	t.Setenv("DISPLAY", ":5")
	t.Setenv("XAUTHORITY", "")
	for _, wm := range []string{profile.WMAirlock, profile.WMNone} {
		p := profile.Defaults()
		p.Display = profile.DisplayXephyr
		p.WindowManager = wm
		sb, err := Prepare(Options{Profile: &p, Args: []string{"/bin/true"}, DryRun: true})
		if err != nil {
			t.Fatal(err)
		}
		w := sb.Plan().WM
		if wm == profile.WMNone {
			if w != nil {
				t.Errorf("window_manager = none: a window manager's plan:\n%s", sb.Plan())
			}
			continue
		}
		if w == nil {
			t.Fatalf("no window manager's plan:\n%s", sb.Plan())
		}
		text := sb.Plan().String()
		for _, want := range []string{"# the nested display's window manager", "bind " + PlaceholderXephyr + " /tmp/.X11-unix/X0",
			"ro-bind " + PlaceholderXephyrAuth + " " + wmAuth, `exec "` + nestedwm.Arg0 + `"`} {
			if !strings.Contains(text, want) {
				t.Errorf("no %q in the plan:\n%s", want, text)
			}
		}
		if len(w.Env) != 2 || w.Net != "none" {
			t.Errorf("env %v, net %q", w.Env, w.Net)
		}
		for _, o := range w.Ops {
			if o.IsBind() && (strings.HasPrefix(o.Dst, "/home") || strings.HasPrefix(o.Dst, "/run/user") || o.Dst == "/tmp/.X11-unix/X5") {
				t.Errorf("the window manager's root has %s", o)
			}
		}
	}
}

// TestRelayLine: the window manager's log lines reach the launcher's log
// with their level and at most wmLogAttrs attributes; garbage is quoted.
func TestRelayLine(t *testing.T) {
	var b strings.Builder
	log := slog.New(slog.NewTextHandler(&b, &slog.HandlerOptions{Level: slog.LevelDebug}))
	relayLine([]byte(`{"time":"x","level":"WARN","msg":"X error","err":"BadAccess","a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"i":9}`+"\n"), log)
	relayLine([]byte("not json \x1b[31m\n"), log)
	out := b.String()
	if !strings.Contains(out, `level=WARN msg="window manager: X error"`) || !strings.Contains(out, "err=BadAccess") || strings.Contains(out, "i=9") {
		t.Errorf("relayed:\n%s", out)
	}
	if !strings.Contains(out, `line="not json \x1b[31m"`) {
		t.Errorf("garbage line:\n%s", out)
	}
}
