#!/usr/bin/python3
"""A host IBus engine, registered on ibus-daemon the way input method
engines are (a component, a factory, one engine), then made the global
engine: it commits "あ" for the key a and prints each key it receives.
It stands for the CJK engines Tails ships (Anthy, Pinyin, Hangul)."""
import sys

import gi
gi.require_version("IBus", "1.0")
from gi.repository import GLib, GObject, IBus

NAME = "airlock-test"


class Kana(IBus.Engine):
    __gtype_name__ = "AirlockTestKana"

    def do_process_key_event(self, keyval, keycode, state):
        if state & IBus.ModifierType.RELEASE_MASK:
            return False
        print(f"key {IBus.keyval_name(keyval)}", flush=True)
        # Asking for the text around the cursor makes the client send it
        # (SetSurroundingText) from now on.
        self.get_surrounding_text()
        if keyval == IBus.KEY_a:
            self.commit_text(IBus.Text.new_from_string("あ"))
            return True
        return False

    def do_set_surrounding_text(self, text, cursor_pos, anchor_pos):
        print(f"surrounding {text.get_text()}|{cursor_pos}", flush=True)
        IBus.Engine.do_set_surrounding_text(self, text, cursor_pos, anchor_pos)

    def do_focus_in(self):
        print("focus-in", flush=True)


IBus.init()
bus = IBus.Bus()
if not bus.is_connected():
    sys.exit("not connected to ibus-daemon")
factory = IBus.Factory.new(bus.get_connection())
factory.add_engine(NAME, GObject.type_from_name("AirlockTestKana"))
component = IBus.Component(name="org.airlock.TestEngine", description="test",
                           version="1", license="GPL", author="airlock",
                           homepage="", command_line="", textdomain="")
component.add_engine(IBus.EngineDesc(name=NAME, longname="Airlock test",
                                     description="test", language="ja",
                                     license="GPL", author="airlock",
                                     icon="", layout="us"))
bus.register_component(component)
loop = GLib.MainLoop()


def selected(b, res):
    # The daemon asks the factory for the engine meanwhile: the main loop
    # must run, hence the asynchronous call.
    if not b.set_global_engine_async_finish(res):
        print("cannot select the test engine", flush=True)
        loop.quit()
        return
    print("ready", flush=True)


bus.set_global_engine_async(NAME, -1, None, selected)
loop.run()
