package protocol

import (
	"os"
	"path/filepath"
	"strings"
)

// Risk says why writing a host path could let a sandbox act outside itself:
// the file is one that a shell, the login session, the desktop or another
// program on the host reads as commands or settings. A review's attack from a
// sandbox: SaveFiles of "photo1.jpg" and ".bash_aliases" created
// ~/.bash_aliases, which Debian's ~/.bashrc sources, with one click. A risky
// write needs the user's second, explicit confirmation in the chooser, and
// the broker refuses a risky path the chooser does not say was confirmed.
type Risk int

// Risks, most specific first. The chooser names each one to the user.
const (
	RiskNone      Risk = iota
	RiskShell          // a shell start-up file: .bashrc, .profile, .zshrc, ...
	RiskSession        // read when the user logs in: .xsessionrc, .xprofile, .pam_environment, ...
	RiskAutostart      // an autostart folder: its launchers run at login
	RiskLauncher       // a .desktop launcher, or a folder of them
	RiskPrograms       // a folder the shell runs programs from (~/bin, ~/.local/bin)
	RiskSSH            // ~/.ssh: keys, authorized_keys, ssh's own config
	RiskGnuPG          // ~/.gnupg: keys and gpg's config
	RiskConfig         // settings of host programs: ~/.config, $XDG_CONFIG_HOME, .gitconfig, ...
	RiskHidden         // any other name starting with '.'
)

// Names compared case-insensitively: a file system such as vfat or exfat
// (USB sticks) treats ".Bashrc" as ".bashrc", and a case-folding ext4 folder
// can too.
var (
	shellFiles = set(".bashrc", ".bash_profile", ".bash_login", ".bash_logout", ".bash_aliases",
		".profile", ".zshrc", ".zshenv", ".zprofile", ".zlogin", ".zlogout", ".cshrc", ".tcshrc",
		".login", ".logout", ".kshrc", ".mkshrc", ".inputrc", ".bash_completion", ".envrc")
	sessionFiles = set(".xsessionrc", ".xsession", ".xprofile", ".xinitrc", ".xserverrc",
		".xresources", ".xdefaults", ".xmodmap", ".pam_environment", ".xsession-errors", ".xauthority")
	configFiles = set(".config", ".gitconfig", ".vimrc", ".exrc", ".emacs", ".gdbinit", ".wgetrc",
		".curlrc", ".npmrc", ".tmux.conf", ".screenrc", ".mailcap", ".lesskey", ".netrc", ".pythonrc")
)

func set(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// Places are the user's folders that decide a path's risk.
type Places struct {
	Home       string // $HOME
	ConfigHome string // $XDG_CONFIG_HOME, else Home/.config
	DataHome   string // $XDG_DATA_HOME, else Home/.local/share
}

// PlacesFromEnv reads Places from the environment, as the host's own
// programs will when they read the file.
func PlacesFromEnv() Places {
	home, _ := os.UserHomeDir()
	pl := Places{Home: filepath.Clean(home)}
	pl.ConfigHome = xdgDir("XDG_CONFIG_HOME", home, ".config")
	pl.DataHome = xdgDir("XDG_DATA_HOME", home, ".local/share")
	return pl
}

func xdgDir(env, home, def string) string {
	if d := os.Getenv(env); filepath.IsAbs(d) {
		return filepath.Clean(d)
	}
	if home == "" {
		return ""
	}
	return filepath.Join(home, def)
}

// WriteRisk is the risk of writing the absolute host path. A folder on the
// way that is a symbolic link (~/photos -> ~/.ssh) is judged by its target
// too: the write lands there.
func (pl Places) WriteRisk(path string) Risk {
	path = filepath.Clean(path)
	r := pl.Classify(path)
	if r != RiskNone {
		return r
	}
	dir := filepath.Dir(path)
	if real, err := filepath.EvalSymlinks(dir); err == nil && real != dir {
		r = pl.Classify(filepath.Join(real, filepath.Base(path)))
	}
	return r
}

// Classify is the risk of the absolute path as written, without looking at
// the disk. Only a name that starts with an ASCII '.' is hidden: a lookalike
// (U+2024 ONE DOT LEADER, U+FF0E FULLWIDTH FULL STOP) makes an ordinary name
// that no shell or desktop reads as its own.
func (pl Places) Classify(path string) Risk {
	path = filepath.Clean(path)
	parts := strings.Split(strings.TrimPrefix(path, "/"), "/")
	// The deepest component names the most specific risk: ~/.ssh/x.desktop
	// is first a launcher.
	for i := len(parts) - 1; i >= 0; i-- {
		c := strings.ToLower(parts[i])
		switch {
		case shellFiles[c]:
			return RiskShell
		case sessionFiles[c]:
			return RiskSession
		case c == "autostart":
			return RiskAutostart
		case strings.HasSuffix(c, ".desktop"), strings.HasSuffix(c, ".directory") && i == len(parts)-1:
			return RiskLauncher
		case c == ".ssh":
			return RiskSSH
		case c == ".gnupg":
			return RiskGnuPG
		}
	}
	if within(path, filepath.Join(pl.DataHome, "applications")) || within(path, "/usr/share/applications") {
		return RiskLauncher
	}
	if pl.Home != "" && (within(path, filepath.Join(pl.Home, "bin")) || within(path, filepath.Join(pl.Home, ".local", "bin"))) {
		return RiskPrograms
	}
	if within(path, pl.ConfigHome) {
		return RiskConfig
	}
	for i := len(parts) - 1; i >= 0; i-- {
		if configFiles[strings.ToLower(parts[i])] {
			return RiskConfig
		}
	}
	for _, c := range parts {
		if strings.HasPrefix(c, ".") {
			return RiskHidden
		}
	}
	return RiskNone
}

// within reports whether path is dir or inside it.
func within(path, dir string) bool {
	if dir == "" || dir == "/" || dir == "." {
		return false
	}
	return path == dir || strings.HasPrefix(path, dir+"/")
}
