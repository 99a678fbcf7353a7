package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestUsernsAdvice points the detection at fake /proc/sys trees, one per
// setting that keeps an ordinary user from creating user namespaces.
func TestUsernsAdvice(t *testing.T) {
	const exe = "/opt/airlock/bin/airlock"
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  []string // substrings of the advice; nil: no advice
	}{
		{"nothing restricts", map[string]string{sysctlAppArmorUserns: "0\n", sysctlUsernsClone: "1\n", sysctlMaxUserns: "63000\n"}, nil},
		{"no such settings", nil, nil},
		{"ubuntu apparmor restriction", map[string]string{sysctlAppArmorUserns: "1\n", appArmorLabel: "unconfined\n"},
			[]string{"kernel.apparmor_restrict_unprivileged_userns = 1", exe, "sudo tee /etc/apparmor.d/airlock", "profile airlock " + exe + " flags=(unconfined)", "userns,", "sudo apparmor_parser -r /etc/apparmor.d/airlock"}},
		{"apparmor restriction, airlock confined by its profile", map[string]string{sysctlAppArmorUserns: "1\n", appArmorLabel: "airlock (unconfined)\n"}, nil},
		{"debian unprivileged_userns_clone", map[string]string{sysctlUsernsClone: "0\n"},
			[]string{"kernel.unprivileged_userns_clone = 0", "sudo sysctl -w kernel.unprivileged_userns_clone=1", "/etc/sysctl.d/"}},
		{"max_user_namespaces 0", map[string]string{sysctlMaxUserns: "0\n", sysctlAppArmorUserns: "1\n"},
			[]string{"user.max_user_namespaces = 0", "sudo sysctl -w user.max_user_namespaces=15000"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			for rel, content := range tc.files {
				p := filepath.Join(root, rel)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got := usernsAdvice(root, exe)
			if tc.want == nil {
				if got != "" {
					t.Fatalf("advice %q, want none", got)
				}
				return
			}
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("advice lacks %q:\n%s", w, got)
				}
			}
		})
	}
}

// TestUsernsAdviceShippedProfile: an installed airlock points at the
// profile meson installed beside its data, when that profile names it.
func TestUsernsAdviceShippedProfile(t *testing.T) {
	root := t.TempDir()
	p := filepath.Join(root, sysctlAppArmorUserns)
	os.MkdirAll(filepath.Dir(p), 0o755)
	os.WriteFile(p, []byte("1\n"), 0o644)
	prefix := t.TempDir()
	exe := filepath.Join(prefix, "bin", "airlock")
	prof := filepath.Join(prefix, "share", "airlock", "apparmor.d", "airlock")
	os.MkdirAll(filepath.Dir(prof), 0o755)
	os.WriteFile(prof, []byte(AppArmorProfile(exe)), 0o644)
	got := usernsAdvice(root, exe)
	if want := "sudo install -m 0644 " + prof + " /etc/apparmor.d/airlock"; !strings.Contains(got, want) {
		t.Errorf("advice lacks %q:\n%s", want, got)
	}
	// A profile for another path is not offered.
	got = usernsAdvice(root, "/elsewhere/airlock")
	if strings.Contains(got, "install -m") {
		t.Errorf("advice offers a profile naming another binary:\n%s", got)
	}
}

// TestAppArmorProfileShipped: data/apparmor.d/airlock.in is the profile the
// advice prints, for meson's bindir.
func TestAppArmorProfileShipped(t *testing.T) {
	b, err := os.ReadFile("../../data/apparmor.d/airlock.in")
	if err != nil {
		t.Fatal(err)
	}
	var body []string
	for _, l := range strings.SplitAfter(string(b), "\n") {
		if !strings.HasPrefix(l, "#") {
			body = append(body, l)
		}
	}
	if got, want := strings.TrimLeft(strings.Join(body, ""), "\n"), AppArmorProfile("@bindir@/airlock"); got != want {
		t.Errorf("data/apparmor.d/airlock.in (comments left out):\n%s\nwant:\n%s", got, want)
	}
}
