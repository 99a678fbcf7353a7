#!/usr/bin/python3
"""A minimal screen reader for the tests: reads the desktop's accessible tree
through AT-SPI (pyatspi, as Orca and Tails' dogtail-based suite do) and acts
on it through the Action interface only, never the keyboard.

  screenreader.py find APP [ROLE NAME]...
      Waits until the application APP is on the desktop and every (ROLE,
      NAME) pair is somewhere in its tree, then prints the tree as JSON
      lines: path (indexes), trail (role and name of each ancestor), role,
      name, description, text, states, actions.
  screenreader.py press APP ROLE NAME [ACTION]
      Finds the first node with that role and name and runs its action
      (default "click"); prints the node's JSON line.
  screenreader.py apps
      Prints the names of the applications on the desktop, one a line.

The waits are backstops against a hung run, not timing assertions: the
test only asserts what is found.
"""
import json
import sys
import time

import pyatspi

WAIT = 40.0  # seconds; a backstop only
MAX_DEPTH = 40
MAX_CHILDREN = 200  # a huge folder listing would make the walk slow


def apps():
    desktop = pyatspi.Registry.getDesktop(0)
    out = []
    for i in range(desktop.childCount):
        try:
            a = desktop.getChildAtIndex(i)
        except Exception:
            continue
        if a is not None:
            out.append(a)
    return out


def find_app(name):
    for a in apps():
        try:
            if a.name == name:
                return a
        except Exception:
            pass
    return None


def text_of(node):
    try:
        t = node.queryText()
    except (NotImplementedError, Exception):
        return None
    try:
        return t.getText(0, -1)
    except Exception:
        return None


def describe(node, path, trail):
    states = []
    try:
        ss = node.getState()
        states = sorted(pyatspi.stateToString(s) for s in ss.getStates())
    except Exception:
        pass
    actions = []
    try:
        a = node.queryAction()
        actions = [a.getName(i) for i in range(a.nActions)]
    except (NotImplementedError, Exception):
        pass
    return {
        "path": path,
        "trail": trail,
        "role": node.getRoleName(),
        "name": node.name or "",
        "description": node.description or "",
        "text": text_of(node),
        "states": states,
        "actions": actions,
    }


def walk(node, path=None, trail=None, depth=0):
    path = path or []
    trail = trail or []
    d = describe(node, path, trail)
    yield node, d
    if depth >= MAX_DEPTH:
        return
    here = trail + ["[%s] %s" % (d["role"], d["name"])]
    try:
        n = min(node.childCount, MAX_CHILDREN)
    except Exception:
        return
    for i in range(n):
        try:
            c = node.getChildAtIndex(i)
        except Exception:
            continue
        if c is None:
            continue
        yield from walk(c, path + [i], here, depth + 1)


def wait_for(app_name, wanted):
    """Polls until the app has every (role, name) in wanted; returns the
    app and its nodes, or None and the last nodes seen."""
    deadline = time.monotonic() + WAIT
    nodes = []
    while True:
        app = find_app(app_name)
        if app is not None:
            try:
                app.clearCache()
            except Exception:
                pass
            nodes = list(walk(app))
            have = {(d["role"], d["name"]) for _, d in nodes}
            if all(w in have for w in wanted):
                return app, nodes
        if time.monotonic() > deadline:
            return None, nodes
        time.sleep(0.1)


def main(argv):
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, args = argv[0], argv[1:]
    if cmd == "apps":
        for a in apps():
            print(a.name)
        return 0
    if cmd == "find":
        app_name, rest = args[0], args[1:]
        wanted = list(zip(rest[0::2], rest[1::2]))
        app, nodes = wait_for(app_name, wanted)
        for _, d in nodes:
            print(json.dumps(d, ensure_ascii=False))
        if app is None:
            print("not found in %s: %r" % (app_name, wanted), file=sys.stderr)
            return 1
        return 0
    if cmd == "press":
        app_name, role, name = args[0], args[1], args[2]
        action = args[3] if len(args) > 3 else "click"
        app, nodes = wait_for(app_name, [(role, name)])
        if app is None:
            print("no [%s] %r in %s" % (role, name, app_name), file=sys.stderr)
            return 1
        for node, d in nodes:
            if (d["role"], d["name"]) != (role, name):
                continue
            if action not in d["actions"]:
                print("[%s] %r has no action %r: %r" % (role, name, action, d["actions"]), file=sys.stderr)
                return 1
            print(json.dumps(d, ensure_ascii=False), flush=True)
            if not node.queryAction().doAction(d["actions"].index(action)):
                print("action %r refused" % action, file=sys.stderr)
                return 1
            return 0
    print("unknown command %r" % cmd, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
