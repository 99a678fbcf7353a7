package protocol

import (
	"os"
	"path/filepath"
	"testing"
)

func TestClassify(t *testing.T) {
	pl := Places{Home: "/home/u", ConfigHome: "/home/u/.config", DataHome: "/home/u/.local/share"}
	for _, c := range []struct {
		path string
		want Risk
	}{
		{"/home/u/photo1.jpg", RiskNone},
		{"/home/u/Documents/report.odt", RiskNone},
		{"/home/u/.bash_aliases", RiskShell},
		{"/home/u/.bashrc", RiskShell},
		{"/home/u/.Bashrc", RiskShell}, // vfat, exfat: the same file
		{"/home/u/./.bashrc", RiskShell},
		{"/home/u/.profile", RiskShell},
		{"/home/u/.zshrc", RiskShell},
		{"/home/u/.xsessionrc", RiskSession},
		{"/home/u/.pam_environment", RiskSession},
		{"/home/u/.config/autostart/x.desktop", RiskLauncher},
		{"/home/u/.config/autostart/evil", RiskAutostart},
		{"/home/u/.config/autostart", RiskAutostart},
		{"/media/usb/autostart/run.sh", RiskAutostart},
		{"/home/u/Desktop/x.desktop", RiskLauncher},
		{"/home/u/Desktop/X.DESKTOP", RiskLauncher},
		{"/home/u/.local/share/applications/firefox", RiskLauncher},
		{"/home/u/.local/share/applications", RiskLauncher},
		{"/home/u/.ssh", RiskSSH},
		{"/home/u/.ssh/authorized_keys", RiskSSH},
		{"/home/u/.gnupg/gpg.conf", RiskGnuPG},
		{"/home/u/bin/ls", RiskPrograms},
		{"/home/u/.local/bin/ls", RiskPrograms},
		{"/home/u/.config", RiskConfig},
		{"/home/u/.config/git/config", RiskConfig},
		{"/home/u/.gitconfig", RiskConfig},
		{"/home/u/.hidden", RiskHidden},
		{"/home/u/.cache/x/y.txt", RiskHidden},
		{"/tmp/.x/photo.jpg", RiskHidden},
		// Lookalike dots are ordinary names: no shell reads "․bashrc".
		{"/home/u/\u2024bashrc", RiskNone},
		{"/home/u/\uff0ebashrc", RiskNone},
		{"/home/u/x\u2024desktop", RiskNone},
		{"/home/u/bashrc", RiskNone},
		{"/home/u/photo.desktop.jpg", RiskNone},
	} {
		if got := pl.Classify(c.path); got != c.want {
			t.Errorf("Classify(%q) = %d, want %d", c.path, got, c.want)
		}
	}
	// A non-default $XDG_CONFIG_HOME is settings too.
	pl.ConfigHome = "/home/u/conf"
	if got := pl.Classify("/home/u/conf/app/settings.ini"); got != RiskConfig {
		t.Errorf("file under $XDG_CONFIG_HOME: %d, want %d", got, RiskConfig)
	}
}

// TestWriteRiskFollowsFolderLinks: a folder that is a symbolic link into a
// risky place is judged by where the write lands.
func TestWriteRiskFollowsFolderLinks(t *testing.T) {
	home := t.TempDir()
	ssh := filepath.Join(home, ".ssh")
	if err := os.Mkdir(ssh, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(ssh, filepath.Join(home, "photos")); err != nil {
		t.Fatal(err)
	}
	pl := Places{Home: home, ConfigHome: filepath.Join(home, ".config"), DataHome: filepath.Join(home, ".local/share")}
	if got := pl.WriteRisk(filepath.Join(home, "photos", "authorized_keys")); got != RiskSSH {
		t.Errorf("write through a link to ~/.ssh: %d, want %d", got, RiskSSH)
	}
	if got := pl.WriteRisk(filepath.Join(home, "plain.txt")); got != RiskNone {
		t.Errorf("plain file: %d", got)
	}
}
