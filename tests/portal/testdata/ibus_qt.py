#!/usr/bin/python3
"""A Qt 5 window with one line edit, using whichever input method plugin
QT_IM_MODULE selects; prints the text each time it changes."""
import sys

from PyQt5.QtCore import QTimer
from PyQt5.QtWidgets import QApplication, QLineEdit

app = QApplication(sys.argv)
edit = QLineEdit()
edit.setWindowTitle("IME entry")
edit.textChanged.connect(lambda s: print(f"text={s}", flush=True))
edit.show()
QTimer.singleShot(60000, app.quit)
app.exec_()
