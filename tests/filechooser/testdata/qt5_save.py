#!/usr/bin/python3
"""A Qt 5 application saving a file as Qt apps do, run inside a sandbox.

QFileDialog.getSaveFileName with a preset path in the sandbox's home goes
through the xdgdesktopportal platform theme (QT_QPA_PLATFORMTHEME, set by
the launcher): Qt 5.15 then sends the portal only current_file. The chosen
file is written with QSaveFile (a temporary file beside the target, then a
rename over it), and saved a second time the same way.
Prints "== saved PATH" or "== cancelled", then exits.
"""
import os
import sys

from PyQt5.QtCore import QSaveFile, QTimer
from PyQt5.QtWidgets import QApplication, QFileDialog

content = sys.argv[1]
app = QApplication(sys.argv[:1])


def save(path, data):
    f = QSaveFile(path)
    if not f.open(QSaveFile.WriteOnly):
        raise SystemExit("== error open %s: %s" % (path, f.errorString()))
    f.write(data.encode())
    if not f.commit():
        raise SystemExit("== error commit %s: %s" % (path, f.errorString()))


def run():
    preset = os.path.join(os.path.expanduser("~"), "report.txt")
    path, _ = QFileDialog.getSaveFileName(None, "Save report", preset, "Text (*.txt)")
    if not path:
        print("== cancelled", flush=True)
        app.exit(0)
        return
    save(path, "draft\n")
    save(path, content)
    print("== saved", path, flush=True)
    app.exit(0)


QTimer.singleShot(0, run)
sys.exit(app.exec_())
