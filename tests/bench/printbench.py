#!/usr/bin/python3
"""Print benchmark helper (tests/bench/print.sh). Times use CLOCK_MONOTONIC,
which a sandbox shares with the host (no time namespace).

printbench.py client [FILE]          the application: on each "prepare" line on
                                     stdin, PreparePrint (prints "t0 NS" first,
                                     then "prepare: CODE"); on "print",
                                     PreparePrint then Print with the token
                                     ("t-print NS" before Print, "print: CODE")
printbench.py dialog RUNS REGEX -- CMD...
                                     runs CMD (a client), asks RUNS+1 dialogs,
                                     polls the display for a visible window whose
                                     name matches REGEX every ~2 ms, answers Escape
printbench.py print RUNS REGEX OUTDIR QUEUE FILE -- CMD...
                                     RUNS+1 prints: Return in the dialog, then
                                     Print -> output PDF complete in OUTDIR
printbench.py lp RUNS OUTDIR QUEUE FILE
                                     RUNS+1 `lp` of FILE -> output complete
Driver output: "first KEY=ms" and "warm KEY=median p10=.. p90=.." lines."""
import glob
import os
import statistics
import subprocess
import sys
import time


def now():
    return time.monotonic_ns()


def client():
    from gi.repository import Gio, GLib
    bus = Gio.bus_get_sync(Gio.BusType.SESSION, None)
    loop = GLib.MainLoop()
    n = [0]

    def call(method, params_sig, args, opts, fd=None):
        n[0] += 1
        token = "b%d_%d" % (os.getpid(), n[0])
        path = "/org/freedesktop/portal/desktop/request/%s/%s" % (bus.get_unique_name()[1:].replace(".", "_"), token)
        out = {}

        def on_response(conn, s, o, i, sig, params, *d):
            out["code"], out["res"] = params.unpack()
            loop.quit()
        sid = bus.signal_subscribe(None, "org.freedesktop.portal.Request", "Response", path, None,
                                   Gio.DBusSignalFlags.NO_MATCH_RULE, on_response)
        opts = dict(opts)
        opts["handle_token"] = GLib.Variant("s", token)
        fds = Gio.UnixFDList.new_from_array([fd]) if fd is not None else None
        bus.call_with_unix_fd_list_sync("org.freedesktop.portal.Desktop", "/org/freedesktop/portal/desktop",
                                        "org.freedesktop.portal.Print", method,
                                        GLib.Variant(params_sig, tuple(args) + (opts,)), None,
                                        Gio.DBusCallFlags.NONE, 600000, fds, None)
        loop.run()
        bus.signal_unsubscribe(sid)
        return out["code"], out["res"]

    def prepare():
        print("t0", now(), flush=True)
        code, res = call("PreparePrint", "(ssa{sv}a{sv}a{sv})", ["", "Bench", {}, {}], {})
        print("prepare:", code, flush=True)
        return code, res

    for line in sys.stdin:
        w = line.split()
        if not w:
            continue
        if w[0] == "prepare":
            prepare()
        elif w[0] == "print":
            code, res = prepare()
            if code != 0:
                continue
            fd = os.open(sys.argv[2], os.O_RDONLY)
            print("t-print", now(), flush=True)
            code, _ = call("Print", "(ssha{sv})", ["", "Bench", 0], {"token": GLib.Variant("u", res["token"])}, fd)
            print("print:", code, flush=True)


def xdo(*args):
    return subprocess.run(["xdotool", *args], capture_output=True, text=True).stdout.split()


def wait_window(regex, deadline_s=60):
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        w = xdo("search", "--onlyvisible", "--name", regex)
        if w:
            return w[0], now()
        time.sleep(0.002)
    sys.exit("no window matching %r" % regex)


class Client:
    def __init__(self, cmd):
        self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def send(self, line):
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()

    def expect(self, prefix):
        while True:
            line = self.p.stdout.readline()
            if not line:
                sys.exit("client ended while waiting for %r" % prefix)
            if line.startswith(prefix):
                return line[len(prefix):].strip()

    def close(self):
        self.p.stdin.close()
        self.p.wait(timeout=60)


def pace(i):
    """Airlock lets a sandbox open 4 print dialogs at once, then one every
    3 s (portal/print): the runs keep to that pace, outside the timed span."""
    if i > 0:
        time.sleep(3.2)


def report(key, values):
    print("first %s=%.1f" % (key, values[0]))
    warm = values[1:]
    q = statistics.quantiles(warm, n=10) if len(warm) >= 2 else [warm[0]] * 9
    print("warm %s=%.1f p10=%.1f p90=%.1f n=%d" % (key, statistics.median(warm), q[0], q[-1], len(warm)))


def output_done(outdir, queue, before):
    files = set(glob.glob(os.path.join(outdir, "*.pdf"))) - before
    if not files:
        return None
    r = subprocess.run(["lpstat", "-o", queue], capture_output=True, text=True)
    if r.stdout.strip():
        return None
    return files


def wait_output(outdir, queue, before):
    end = time.monotonic() + 120
    while time.monotonic() < end:
        f = output_done(outdir, queue, before)
        if f:
            return now(), f
        time.sleep(0.005)
    sys.exit("no output in %s" % outdir)


def main():
    mode = sys.argv[1]
    if mode == "client":
        return client()
    if mode == "dialog":
        runs, regex, cmd = int(sys.argv[2]), sys.argv[3], sys.argv[5:]
        c = Client(cmd)
        ms = []
        for i in range(runs + 1):
            pace(i)
            c.send("prepare")
            t0 = int(c.expect("t0 "))
            w, t1 = wait_window(regex)
            ms.append((t1 - t0) / 1e6)
            xdo("windowfocus", "--sync", w)
            xdo("key", "Escape")
            c.expect("prepare: ")
            while xdo("search", "--onlyvisible", "--name", regex):
                time.sleep(0.01)
        c.close()
        report("map_ms", ms)
    elif mode == "print":
        runs, regex, outdir, queue, f, cmd = int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6], sys.argv[8:]
        c = Client(cmd)
        ms = []
        for i in range(runs + 1):
            pace(i)
            before = set(glob.glob(os.path.join(outdir, "*.pdf")))
            c.send("print")
            w, _ = wait_window(regex)
            while xdo("search", "--onlyvisible", "--name", regex):
                xdo("windowfocus", "--sync", w)
                xdo("key", "Return")
                time.sleep(0.05)
            t0 = int(c.expect("t-print "))
            t1, _ = wait_output(outdir, queue, before)
            ms.append((t1 - t0) / 1e6)
            c.expect("print: ")
        c.close()
        report("print_ms", ms)
    elif mode == "lp":
        runs, outdir, queue, f = int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
        ms = []
        for i in range(runs + 1):
            before = set(glob.glob(os.path.join(outdir, "*.pdf")))
            t0 = now()
            subprocess.run(["lp", "-d", queue, "-t", "lp bench %d" % i, f], check=True, capture_output=True)
            t1, _ = wait_output(outdir, queue, before)
            ms.append((t1 - t0) / 1e6)
        report("print_ms", ms)


main()
