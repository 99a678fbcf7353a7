package main

import (
	"log/slog"

	"airlock/portal/broker"
	"airlock/portal/filechooser"
)

// portalHooks installs the portals that live beside Settings on every
// sandbox bus: the FileChooser, with Airlock's own chooser process.
func portalHooks(log *slog.Logger, b **broker.Broker) broker.Hooks {
	folders := filechooser.NewFolders()
	// One chooser pool for the session: every sandbox's dialogs come from
	// it, one process each.
	var dialog filechooser.Dialog
	if bin, err := filechooser.ChooserBinary(); err != nil {
		log.Warn("file chooser unavailable", "err", err)
		dialog = filechooser.Unavailable(err)
	} else {
		dialog = filechooser.ProcessDialog(bin, log)
	}
	return broker.Hooks{
		OnRegister: func(sb *broker.Sandbox) {
			filechooser.Install(sb.Desktop, filechooser.Sandbox{
				ID: sb.ID, Profile: sb.Profile, DisplayName: sb.DisplayName, Icon: sb.Icon,
				ReadOnlyDefault: sb.DefaultGrant != "rw",
			}, (*b).Granter(), dialog, folders, log)
		},
	}
}
