#!/usr/bin/python3
"""Read and drive a running application over the AT-SPI accessibility bus; print JSON.

Run by Debian's ``/usr/bin/python3`` (``python3-pyatspi`` exists only for it), as its own
process beside the app, with the app's ``DISPLAY`` and ``DBUS_SESSION_BUS_ADDRESS``::

    atspi_driver.py [--app NAME] [--pid PID] apps
    atspi_driver.py [--app NAME] [--pid PID] snapshot
    atspi_driver.py [--app NAME] [--pid PID] focused
    atspi_driver.py [--app NAME] [--pid PID] press OBJECT_NAME [--action NAME] [--name NAME]

``apps`` lists the applications on the desktop; ``snapshot`` describes every accessible object
of the application named NAME (its id, name, role, description, states, text, value, actions and
relations); ``focused`` the one object that has the keyboard focus (or null); ``press`` runs an
action (``Press`` by default) on the object whose accessible id ends with ``.OBJECT_NAME`` (Qt
puts the ``objectName`` there; ``--name`` picks one of several, e.g. a dialog's unnamed
``QPushButton`` "Cancel"). An application matches NAME by its own accessible name or by
the name of one of its windows.

Every command prints one JSON object: ``{"ok": true, ...}`` with exit status 0, or
``{"ok": false, "error": "..."}`` with exit status 1 (e.g. the application is not on the bus
yet: callers poll). Each run is a fresh AT-SPI client, so nothing is served from a stale cache.

``pyatspi`` has no type stubs and is not installed in the project's virtual environment, so it
is imported at run time through ``importlib`` and its objects are typed ``Any``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Iterator
from types import ModuleType
from typing import Any

Accessible = Any  # a pyatspi Accessible proxy
Json = dict[str, Any]


class DriverError(Exception):
    """A failure the caller may retry (application not found yet, object missing...)."""


def _atspi() -> ModuleType:
    return importlib.import_module("pyatspi")


def _children(obj: Accessible) -> Iterator[Accessible]:
    for index in range(obj.childCount):
        child = obj.getChildAtIndex(index)
        if child is not None:
            yield child


def _identifier(obj: Accessible) -> str:
    try:
        return str(obj.accessibleId or "")
    except Exception:  # older AT-SPI: no AccessibleId property
        return ""


def _states(atspi: ModuleType, obj: Accessible) -> list[str]:
    return sorted(str(atspi.stateToString(s)) for s in obj.getState().getStates())


def _window_names(app: Accessible) -> list[str]:
    return [str(window.name) for window in _children(app)]


def _pid(app: Accessible) -> int:
    try:
        return int(app.get_process_id())
    except Exception:
        return -1


def find_app(atspi: ModuleType, name: str | None, pid: int | None) -> Accessible:
    desktop = atspi.Registry.getDesktop(0)
    seen: list[str] = []
    for app in _children(desktop):
        seen.append(str(app.name))
        if pid is not None and _pid(app) != pid:
            continue
        if name is None or app.name == name or name in _window_names(app):
            return app
    wanted = " ".join(([f"named {name!r}"] if name is not None else [])
                      + ([f"with pid {pid}"] if pid is not None else []))
    raise DriverError(f"no application {wanted or 'at all'} on the bus (found: {seen})")


def _text(obj: Accessible) -> str | None:
    try:
        text = obj.queryText()
    except NotImplementedError:
        return None
    return str(text.getText(0, -1))


def _value(obj: Accessible) -> dict[str, float] | None:
    try:
        value = obj.queryValue()
    except NotImplementedError:
        return None
    return {"current": float(value.currentValue), "minimum": float(value.minimumValue),
            "maximum": float(value.maximumValue)}


def _actions(obj: Accessible) -> list[dict[str, str]]:
    try:
        action = obj.queryAction()
    except NotImplementedError:
        return []
    return [{"name": str(action.getName(i)), "key_binding": str(action.getKeyBinding(i)),
             "description": str(action.getDescription(i))} for i in range(action.nActions)]


def _relations(obj: Accessible) -> dict[str, list[dict[str, str]]]:
    relations: dict[str, list[dict[str, str]]] = {}
    for relation in obj.getRelationSet():
        kind = str(relation.getRelationType().value_nick)
        targets = [relation.getTarget(i) for i in range(relation.getNTargets())]
        # Qt sends one relation per target (a buddy label, then the group box around it):
        # keep them all, not only the last of a kind.
        relations.setdefault(kind, []).extend({"id": _identifier(t), "name": str(t.name)}
                                              for t in targets if t is not None)
    return relations


def describe(atspi: ModuleType, obj: Accessible, depth: int) -> Json:
    return {
        "id": _identifier(obj),
        "name": str(obj.name),
        "role": str(obj.getRoleName()),
        "description": str(obj.description),
        "states": _states(atspi, obj),
        "text": _text(obj),
        "value": _value(obj),
        "actions": _actions(obj),
        "relations": _relations(obj),
        "depth": depth,
    }


def walk(obj: Accessible, depth: int = 0) -> Iterator[tuple[Accessible, int]]:
    yield obj, depth
    for child in _children(obj):
        yield from walk(child, depth + 1)


def _by_object_name(app: Accessible, object_name: str, name: str | None) -> Accessible:
    found = [obj for obj, _ in walk(app) if _identifier(obj).endswith("." + object_name)
             and (name is None or obj.name == name)]
    if len(found) != 1:
        named = "" if name is None else f" named {name!r}"
        raise DriverError(f"{len(found)} objects{named} have an id ending in .{object_name}")
    return found[0]


def _focused(atspi: ModuleType, app: Accessible) -> Accessible | None:
    """The focusable object with the focused state, looking only inside showing objects (a
    combo box's closed popup list keeps a stale focused item)."""

    def search(obj: Accessible) -> Accessible | None:
        state = obj.getState()
        if state.contains(atspi.STATE_FOCUSED) and state.contains(atspi.STATE_FOCUSABLE):
            return obj
        if not state.contains(atspi.STATE_SHOWING):
            return None
        for child in _children(obj):
            hit = search(child)
            if hit is not None:
                return hit
        return None

    for window in _children(app):
        hit = search(window)
        if hit is not None:
            return hit
    return None


def run(args: argparse.Namespace) -> Json:
    atspi = _atspi()
    if args.command == "apps":
        desktop = atspi.Registry.getDesktop(0)
        return {"apps": [{"name": str(app.name), "pid": _pid(app),
                          "windows": _window_names(app)} for app in _children(desktop)]}
    app = find_app(atspi, args.app, args.pid)
    header = {"app": {"name": str(app.name), "pid": _pid(app), "windows": _window_names(app)}}
    if args.command == "snapshot":
        return {**header, "nodes": [describe(atspi, obj, depth) for obj, depth in walk(app)]}
    if args.command == "focused":
        focused = _focused(atspi, app)
        return {**header, "node": None if focused is None else describe(atspi, focused, -1)}
    if args.command == "press":
        target = _by_object_name(app, args.object_name, args.name)
        action = target.queryAction()
        names = [str(action.getName(i)) for i in range(action.nActions)]
        if args.action not in names:
            raise DriverError(f"{args.object_name} has no {args.action!r} action: {names}")
        done = bool(action.doAction(names.index(args.action)))
        return {**header, "done": done}
    raise DriverError(f"unknown command {args.command!r}")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--app", help="application (or window) name to look for")
    p.add_argument("--pid", type=int, help="only the application of this process")
    commands = p.add_subparsers(dest="command", required=True)
    commands.add_parser("apps", help="list the applications on the desktop")
    commands.add_parser("snapshot", help="every accessible object of the application")
    commands.add_parser("focused", help="the object with the keyboard focus")
    press = commands.add_parser("press", help="run an action on an object")
    press.add_argument("object_name", help="the Qt objectName (end of the accessible id)")
    press.add_argument("--action", default="Press", help="action name (default: Press)")
    press.add_argument("--name", help="only the object with this accessible name")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        result: Json = {"ok": True, **run(args)}
        status = 0
    except DriverError as exc:
        result, status = {"ok": False, "error": str(exc)}, 1
    except Exception as exc:  # D-Bus errors while the app starts or quits: the caller retries
        result, status = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}, 1
    json.dump(result, sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")
    return status


if __name__ == "__main__":
    sys.exit(main())
