package cli

import (
	"os"
	"path/filepath"
	"strings"

	"airlock/po/i18n"
)

// The kernel settings that keep an ordinary user from creating user
// namespaces, which every sandbox needs (it has no setuid helper). root is
// "/" on a real system; tests point it at a tree of fake files.
const (
	// Ubuntu 23.10 and later (kernel.apparmor_restrict_unprivileged_userns
	// = 1): only programs that an AppArmor profile allows `userns` may
	// create one; others get EPERM, or (Ubuntu 24.04) a namespace without
	// capabilities, so that init's first mount fails with EPERM.
	sysctlAppArmorUserns = "proc/sys/kernel/apparmor_restrict_unprivileged_userns"
	// Debian's and Ubuntu's older kernels: 0 refuses CLONE_NEWUSER to
	// unprivileged callers (EPERM).
	sysctlUsernsClone = "proc/sys/kernel/unprivileged_userns_clone"
	// 0 refuses every new user namespace (ENOSPC at clone).
	sysctlMaxUserns = "proc/sys/user/max_user_namespaces"
	// The caller's AppArmor label: "unconfined", or the profile confining it.
	appArmorLabel = "proc/self/attr/current"
	// AppArmorProfileDir is where AppArmor loads profiles from at boot.
	appArmorDir = "etc/apparmor.d"
)

func readSetting(root, rel string) string {
	b, err := os.ReadFile(filepath.Join(root, rel))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(strings.TrimRight(string(b), "\x00"))
}

func executable() string {
	exe, err := os.Executable()
	if err != nil {
		return "airlock"
	}
	if real, err := filepath.EvalSymlinks(exe); err == nil {
		return real
	}
	return exe
}

// shippedAppArmorProfile is the profile that meson installs beside the
// data (PREFIX/share/airlock/apparmor.d/airlock), when it names exe.
func shippedAppArmorProfile(exe string) string {
	p := filepath.Join(filepath.Dir(exe), "..", "share", "airlock", "apparmor.d", "airlock")
	b, err := os.ReadFile(p)
	if err != nil || !strings.Contains(string(b), " "+exe+" ") {
		return ""
	}
	return filepath.Clean(p)
}

// AppArmorProfile is the profile that lets exe create user namespaces, as
// Ubuntu ships for bubblewrap and Chromium: unconfined but for the userns
// rule, which is all the restriction looks at.
func AppArmorProfile(exe string) string {
	return "abi <abi/4.0>,\n" +
		"include <tunables/global>\n\n" +
		"profile airlock " + exe + " flags=(unconfined) {\n" +
		"  userns,\n\n" +
		"  include if exists <local/airlock>\n" +
		"}\n"
}

// usernsAdvice says which kernel setting keeps exe from creating user
// namespaces and exactly what to do, "" when none does.
func usernsAdvice(root, exe string) string {
	if readSetting(root, sysctlMaxUserns) == "0" {
		return i18n.T("airlock: this system allows no user namespaces (user.max_user_namespaces = 0), and every sandbox needs one. Allow them with:\n"+
			"  sudo sysctl -w user.max_user_namespaces=%d\n"+
			"and keep that across reboots with:\n"+
			"  echo user.max_user_namespaces=%d | sudo tee /etc/sysctl.d/50-airlock.conf", 15000, 15000)
	}
	if readSetting(root, sysctlUsernsClone) == "0" {
		return i18n.T("airlock: this system keeps ordinary users from creating user namespaces (kernel.unprivileged_userns_clone = 0), and every sandbox needs one. Allow them with:\n" +
			"  sudo sysctl -w kernel.unprivileged_userns_clone=1\n" +
			"and keep that across reboots with:\n" +
			"  echo kernel.unprivileged_userns_clone=1 | sudo tee /etc/sysctl.d/50-airlock.conf")
	}
	if readSetting(root, sysctlAppArmorUserns) != "1" {
		return ""
	}
	if label := readSetting(root, appArmorLabel); label != "" && label != "unconfined" {
		// Confined already (by Airlock's profile, or another): the
		// restriction is not what failed, or that profile lacks userns.
		if strings.HasPrefix(label, "airlock ") || label == "airlock" {
			return ""
		}
	}
	dst := filepath.Join("/", appArmorDir, "airlock")
	var steps string
	if src := shippedAppArmorProfile(exe); src != "" {
		steps = "  sudo install -m 0644 " + src + " " + dst + "\n"
	} else {
		steps = "  sudo tee " + dst + " >/dev/null <<'EOF'\n" + AppArmorProfile(exe) + "EOF\n"
	}
	steps += "  sudo apparmor_parser -r " + dst
	return i18n.T("airlock: AppArmor lets only the programs it names create user namespaces here (kernel.apparmor_restrict_unprivileged_userns = 1), and %s is not one of them. Install Airlock's AppArmor profile, which allows it and nothing more (as Ubuntu does for bubblewrap and Chromium):\n%s", exe, steps)
}
