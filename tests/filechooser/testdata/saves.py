# Saves the way real applications do, inside a sandbox, into the folder of
# a writable file grant. The first line on stdin is the granted file's path
# inside; then one command a line: "ID CMD ARG...", answered "== done ID" (or
# "== error ID: ...").
#   gio TEXT           GIO's g_file_replace (Gio.File.replace_contents)
#   libreoffice TEXT   lock file, temporary renamed over the file, lock removed
#   qt TEXT            QSaveFile: temporary NAME.XXXXXX closed, then renamed over
#   saveas NAME TEXT   Save As: create, write, close NAME beside the file
#   lock               LibreOffice's lock file, left behind (as after a crash)
#   rename NAME        rename NAME (beside the file) over the file
#   exit
import os
import sys
import time

from gi.repository import Gio

path = sys.stdin.readline().strip()
folder, name = os.path.split(path)


def write(p, text):
    with open(p, "w") as f:
        f.write(text)


for line in sys.stdin:
    ident, cmd, *rest = line.rstrip("\n").split(" ", 2)
    arg = " ".join(rest)
    try:
        if cmd == "gio":
            Gio.File.new_for_path(path).replace_contents(arg.encode(), None, False, Gio.FileCreateFlags.NONE, None)
        elif cmd == "libreoffice":
            lock = os.path.join(folder, ".~lock." + name + "#")
            write(lock, "user,host,01.01.2026 10:00,user;")
            tmp = os.path.join(folder, "lu4821abcd.tmp")
            write(tmp, arg)
            os.rename(tmp, path)
            os.remove(lock)
        elif cmd == "qt":
            tmp = path + ".aB3xQz"
            write(tmp, arg)
            time.sleep(0.2)
            os.rename(tmp, path)
        elif cmd == "saveas":
            new, _, text = arg.partition(" ")
            write(os.path.join(folder, new), text)
        elif cmd == "lock":
            write(os.path.join(folder, ".~lock." + name + "#"), "user,host,01.01.2026 10:00,user;")
        elif cmd == "rename":
            os.rename(os.path.join(folder, arg), path)
        elif cmd == "exit":
            print("== done " + ident, flush=True)
            break
        else:
            raise ValueError("unknown command " + cmd)
        print("== done " + ident, flush=True)
    except Exception as e:
        print("== error %s: %s" % (ident, e), flush=True)
