package launcher_test

import (
	"strings"
	"testing"

	"airlock/tests/harness"
)

// TestMaxOpenFiles: the profile's max_open_files is the application's
// RLIMIT_NOFILE, soft and hard, and nothing inside raises it; the default
// profile's is 512.
func TestMaxOpenFiles(t *testing.T) {
	t.Parallel()
	e := harness.Get(t)
	const script = `echo $(ulimit -Sn) $(ulimit -Hn); ulimit -Hn 100000 2>/dev/null && echo RAISED || echo REFUSED`
	for _, c := range []struct {
		profile, want string
	}{
		{"", "512 512"},
		{writeProfile(t, e, "nofile", "max_open_files = 200\n"), "200 200"},
	} {
		args := []string{"run"}
		if c.profile != "" {
			args = append(args, "--profile", c.profile)
		}
		r := e.Run(t, append(args, "--", "/bin/sh", "-c", script)...)
		lines := strings.Split(strings.TrimSpace(r.Stdout), "\n")
		if r.Code != 0 || len(lines) != 2 || lines[0] != c.want || lines[1] != "REFUSED" {
			t.Errorf("profile %q: %q, want %q and the raise refused (%v)", c.profile, lines, c.want, r)
		}
	}
	r := e.Run(t, "run", "--profile", writeProfile(t, e, "nofile-bad", "max_open_files = 8\n"), "--", "/bin/true")
	if r.Code != 2 || !strings.Contains(r.Stderr, `key "max_open_files"`) {
		t.Errorf("max_open_files = 8: %v, want the profile refused", r)
	}
}
