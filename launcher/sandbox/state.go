package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Record describes a running sandbox for `airlock ps` and `airlock kill`. It
// lives in $XDG_RUNTIME_DIR/airlock/sandboxes/ID.json while the launcher runs
// and is removed when the sandbox ends.
type Record struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Profile   string    `json:"profile"`
	Pid       int       `json:"pid"`        // host pid of the sandbox's init
	StartTick uint64    `json:"start_tick"` // init's start time in clock ticks, against pid reuse
	Launcher  int       `json:"launcher"`   // host pid of the airlock run process
	Started   time.Time `json:"started"`
	Command   []string  `json:"command"`
	// EtcView is the /etc view it binds (etcview.go), kept while it runs.
	EtcView string `json:"etc_view,omitempty"`
}

func stateDir() (string, error) {
	rt, err := RuntimeDir()
	if err != nil {
		return "", err
	}
	d := filepath.Join(rt, "airlock", "sandboxes")
	return d, os.MkdirAll(d, 0o700)
}

func writeRecord(r *Record) (string, error) {
	d, err := stateDir()
	if err != nil {
		return "", err
	}
	b, _ := json.Marshal(r)
	p := filepath.Join(d, r.ID+".json")
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return "", err
	}
	return p, os.Rename(tmp, p)
}

// processStartTick reads field 22 of /proc/PID/stat.
func processStartTick(pid int) (uint64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("bad stat for %d", pid)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 {
		return 0, fmt.Errorf("bad stat for %d", pid)
	}
	return strconv.ParseUint(f[19], 10, 64)
}

// Alive reports whether the record's init is still the process it names and
// has not exited (a zombie waiting for its parent counts as gone).
func (r *Record) Alive() bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", r.Pid))
	if err != nil {
		return false
	}
	if i := strings.LastIndexByte(string(b), ')'); i > 0 && i+2 < len(b) && b[i+2] == 'Z' {
		return false
	}
	t, err := processStartTick(r.Pid)
	return err == nil && t == r.StartTick
}

// List returns the running sandboxes, removing records of dead ones.
func List() ([]Record, error) {
	d, err := stateDir()
	if err != nil {
		return nil, err
	}
	ents, err := os.ReadDir(d)
	if err != nil {
		return nil, err
	}
	var out []Record
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		p := filepath.Join(d, e.Name())
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		var r Record
		if json.Unmarshal(b, &r) != nil || !r.Alive() {
			// A launcher killed with SIGKILL leaves its record. Another
			// `airlock ps` may have removed it first.
			if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
				slog.Warn("cannot remove the record of a sandbox that ended", "path", p, "err", err)
			}
			continue
		}
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Started.Before(out[j].Started) })
	return out, nil
}

// Lookup finds a running sandbox by id, unique id prefix or name.
func Lookup(key string) (*Record, error) {
	all, err := List()
	if err != nil {
		return nil, err
	}
	var found []Record
	for _, r := range all {
		if r.ID == key || r.Name == key {
			return &r, nil
		}
		if strings.HasPrefix(r.ID, key) {
			found = append(found, r)
		}
	}
	switch len(found) {
	case 0:
		return nil, fmt.Errorf("no running sandbox %q", key)
	case 1:
		return &found[0], nil
	}
	return nil, fmt.Errorf("%q names %d sandboxes", key, len(found))
}
