package main

import (
	"log/slog"

	"airlock/portal/broker"
	"airlock/portal/filechooser"
)

// portalHooks installs the portals that live beside Settings on every
// sandbox bus: the FileChooser, with Airlock's own chooser process (dialog,
// from chooserDialog).
func portalHooks(log *slog.Logger, b **broker.Broker, dialog filechooser.Dialog) broker.Hooks {
	folders := filechooser.NewFolders()
	return broker.Hooks{
		OnRegister: func(sb *broker.Sandbox) {
			filechooser.Install(sb.Desktop, filechooser.Sandbox{
				ID: sb.ID, Profile: sb.Profile, DisplayName: sb.DisplayName, Icon: sb.Icon,
				ReadOnlyDefault: sb.DefaultGrant != "rw",
			}, (*b).Granter(), dialog, folders, log)
		},
	}
}

// chooserDialog is the session's one chooser pool: every dialog (file
// choosers, new-file questions) comes from it, one process each.
func chooserDialog(log *slog.Logger) filechooser.Dialog {
	bin, err := filechooser.ChooserBinary()
	if err != nil {
		log.Warn("file chooser unavailable", "err", err)
		return filechooser.Unavailable(err)
	}
	return filechooser.ProcessDialog(bin, log)
}
