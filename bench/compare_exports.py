"""Safety net for refactoring: every figure the dashboard writes or shows, before and after, compared.

For one git revision (checked out with ``git worktree add`` under /tmp) or the working tree, records:

- every CLI export (``python -m equity export``): each geography and loaded ACS period as CSV, GeoJSON
  where there are boundaries, and the data dictionary; all periods at once; custom areas;
- for each page of app.py's navigation (and a few URL states), every file its download buttons offer
  (the table, its data dictionary, the provenance note, the GeoJSON) and the text of the screen
  (titles, markdown, captions, metrics, tables and dataframes, notices), each chart's Vega-Lite spec
  and data and each map's deck JSON, read through Streamlit's AppTest. Download buttons are caught at Streamlit's ``download_button``, so the recording does not
  depend on where the pages' helpers live.

Each revision builds its own cache (the cache's fingerprint includes the library's source).

Usage:
    python bench/compare_exports.py record REV OUT     # REV: a git revision, or "." for the working tree
    python bench/compare_exports.py diff OLD NEW       # exit status 1 when anything differs
    python bench/compare_exports.py check OLD          # record the working tree into /tmp and diff
"""

from __future__ import annotations

import argparse
import ast
import difflib
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SNAPSHOT = Path(os.environ.get("EQUITY_SNAPSHOT", "/work/shared/data"))

# URL states beyond each page's default view: the explorer's compare and custom-area tabs need chosen areas.
EXTRA_STATES = [
    ("pages/explorer.py", {"geo": "community_area", "compare": "1,2,3", "custom": "1,2,3"}),
    ("pages/explorer.py", {"geo": "ward", "compare": "1,2", "custom": "1,2", "value": "count"}),
    ("pages/explorer.py", {"geo": "community_area", "metric": "households", "cunit": "tract",
                           "custom": "17031010100,17031010201"}),
    ("pages/map.py", {"geography": "ward", "area": "20"}),
    ("pages/map.py", {"geography": "tract", "mode": "count", "area": "17031010100"}),
    ("pages/map.py", {"geography": "community_area", "area": "25", "metric": "households"}),
    ("pages/ward.py", {"ward": "20"}),
    ("pages/progress.py", {"gap": "ward", "gap_metric": "no_computer"}),
    ("pages/downloads.py", {"geo": "custom", "of": "ward", "areas": "1,2,3"}),
    ("pages/downloads.py", {"geo": "tract"}),
]
SCREEN_ELEMENTS = ("title", "header", "subheader", "markdown", "caption", "text", "latex", "code", "metric",
                   "table", "dataframe", "warning", "info", "error", "success", "exception", "json")


# ---- recording (runs inside the tree recorded) -----------------------------------------------------

def navigation_pages(tree: Path) -> list[str]:
    """The script of every page of the tree's navigation, in order: the ``PAGES`` of dashboard/frame.py (where
    app.py's navigation is made), or, in a tree from before that file, each ``st.Page(...)`` of app.py."""
    frame = tree / "dashboard" / "frame.py"
    if frame.exists():
        for node in ast.walk(ast.parse(frame.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "PAGES" for t in node.targets):
                return [entry[0] for entry in ast.literal_eval(node.value)]
        raise SystemExit(f"{frame} has no PAGES: the pages to record are unknown")
    calls = [node for node in ast.walk(ast.parse((tree / "app.py").read_text(encoding="utf-8")))
             if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "Page"]
    return [call.args[0].value for call in calls
            if call.args and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str)]


def record_cli(out: Path) -> None:
    from equity import __main__ as cli
    from equity import cache, geography

    data = cache.load()
    folder = out / "cli"
    folder.mkdir(parents=True)

    def run(name: str, *args: str) -> None:
        code = cli.main(["export", *args, "--output", str(folder / name)])
        if code:
            (folder / name).write_text(f"exit status {code}\n")

    for geo in geography.GEOGRAPHIES:
        for year in data.years:
            stem = f"{geo}-{year}"
            run(f"{stem}.csv", "--geography", geo, "--year", str(year), "--dictionary",
                str(folder / f"{stem}-dictionary.csv"))
            if geo != "city":
                run(f"{stem}.geojson", "--geography", geo, "--year", str(year), "--format", "geojson")
        run(f"{geo}-all-years.csv", "--geography", geo, *[a for y in data.years for a in ("--year", str(y))])
    run("custom-community-areas.csv", "--geography", "community_area", "--combine", "1,2,77",
        "--dictionary", str(folder / "custom-community-areas-dictionary.csv"))
    run("custom-wards-two-measures.csv", "--geography", "ward", "--combine", "1,2,3",
        "--metric", "unconnected", "--metric", "households")
    run("custom-tracts.csv", "--geography", "tract", "--combine", "17031010100,17031010201")
    run("bad-choice.csv", "--geography", "ward", "--combine", "999")


def _text(value) -> str:
    import pandas as pd

    if isinstance(value, (pd.DataFrame, pd.Series)):
        return value.to_csv()
    return str(value)


def screen_text(at) -> str:
    """The readable content of a page run, element kind by element kind, in page order within a kind."""
    lines = []
    for kind in SCREEN_ELEMENTS:
        for element in at.get(kind):
            if kind == "metric":
                text = f"{element.label} | {element.value} | {element.delta}"
            else:
                try:
                    text = _text(element.value)
                except Exception as exc:  # an element without a value: say so rather than stop
                    text = f"<{type(exc).__name__}>"
            lines.append(f"--- {kind}\n{text}")
    return "\n".join(lines) + "\n"


def drawings(at) -> dict[str, bytes]:
    """Charts and maps as sent to the browser: each Vega-Lite spec with its datasets as CSV, each deck's JSON."""
    import pyarrow as pa

    found, stack = {}, [at._tree]
    while stack:
        node = stack.pop(0)
        stack.extend(getattr(node, "children", {}).values())
        kind = getattr(node, "type", None)
        if kind == "vega_lite_chart":
            proto = node.proto
            parts = [proto.spec]
            for dataset in proto.datasets:
                table = pa.ipc.open_stream(dataset.data.data).read_pandas() if dataset.data.data else None
                parts.append(f"dataset {dataset.name}\n" + ("" if table is None else table.to_csv()))
            found[f"chart-{len(found):02d}.txt"] = "\n".join(parts).encode("utf-8")
        elif kind == "deck_gl_json_chart":
            proto = node.proto
            found[f"deck-{len(found):02d}.json"] = f"{proto.json}\ntooltip {proto.tooltip}\n".encode("utf-8")
    return found


def _normalise(name: str, payload: bytes) -> bytes:
    """Drop what differs between two builds of the same data: the build time in provenance notes."""
    if name.endswith(".txt"):
        return b"\n".join(line for line in payload.split(b"\n") if not line.startswith(b"Data built:"))
    return payload


def record_pages(tree: Path, out: Path) -> None:
    import streamlit as st
    from streamlit.elements.widgets.button import ButtonMixin
    from streamlit.testing.v1 import AppTest

    offered: dict[str, bytes] = {}
    original = ButtonMixin.download_button
    module_level = st.download_button

    def catch(data, file_name):
        payload = data() if callable(data) else data
        if isinstance(payload, str):
            payload = payload.encode("utf-8")
        elif not isinstance(payload, bytes):
            payload = _text(payload).encode("utf-8")
        offered[str(file_name)] = _normalise(str(file_name), payload)

    def spy(self, label, data=None, file_name=None, *args, **kwargs):
        catch(data, file_name)
        return original(self, label, data, file_name, *args, **kwargs)

    def spy_module(label, data=None, file_name=None, *args, **kwargs):
        catch(data, file_name)
        return module_level(label, data, file_name, *args, **kwargs)

    ButtonMixin.download_button = spy
    st.download_button = spy_module
    states = [(page, {}) for page in navigation_pages(tree)] + EXTRA_STATES
    for number, (page, params) in enumerate(states):
        name = f"{number:02d}-{Path(page).stem}" + "".join(f"-{k}={v}" for k, v in params.items())
        folder = out / "pages" / name.replace("/", "_").replace(",", "+")
        folder.mkdir(parents=True)
        offered.clear()
        at = AppTest.from_file(str(tree / "app.py"), default_timeout=300)
        for key, value in params.items():
            at.query_params[key] = value
        at.run()
        at.switch_page(page).run()
        (folder / "screen.txt").write_text(screen_text(at))
        for file_name, payload in drawings(at).items():
            (folder / file_name).write_bytes(payload)
        for file_name, payload in offered.items():
            (folder / file_name).write_bytes(payload)
        print(f"recorded {name}: {len(offered)} files", file=sys.stderr, flush=True)


def dump(out: Path) -> None:
    tree = Path.cwd()
    sys.path.insert(0, str(tree))
    out.mkdir(parents=True)
    record_cli(out)
    record_pages(tree, out)


def record(revision: str, out: Path) -> None:
    """Record ``revision`` (or "." for the working tree) into ``out``, with a cache of its own."""
    out = out.resolve()
    if out.exists():
        shutil.rmtree(out)
    work = Path(tempfile.mkdtemp(prefix="compare-exports-"))
    try:
        if revision == ".":
            tree = REPO
        else:
            tree = work / "tree"
            subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", str(tree), revision],
                           check=True, capture_output=True)
        env = {**os.environ, "EQUITY_SNAPSHOT": str(SNAPSHOT), "EQUITY_CACHE": str(work / "cache"),
               "PYTHONPATH": str(tree)}
        subprocess.run([sys.executable, str(Path(__file__).resolve()), "dump", str(out)], cwd=tree, env=env,
                       check=True)
    finally:
        if revision != ".":
            subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(work / "tree")],
                           capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


# ---- comparing ------------------------------------------------------------------------------------------

def diff(old: Path, new: Path, lines: int = 40) -> int:
    """Print every file that differs between two recordings; the number of differences."""
    old_files = {p.relative_to(old) for p in old.rglob("*") if p.is_file()}
    new_files = {p.relative_to(new) for p in new.rglob("*") if p.is_file()}
    problems = 0
    for path in sorted(old_files - new_files):
        print(f"only before: {path}")
        problems += 1
    for path in sorted(new_files - old_files):
        print(f"only after: {path}")
        problems += 1
    for path in sorted(old_files & new_files):
        before, after = (old / path).read_bytes(), (new / path).read_bytes()
        if before == after:
            continue
        problems += 1
        print(f"differs: {path} ({hashlib.sha256(before).hexdigest()[:8]} -> {hashlib.sha256(after).hexdigest()[:8]})")
        try:
            text = difflib.unified_diff(before.decode("utf-8-sig").splitlines(),
                                        after.decode("utf-8-sig").splitlines(), lineterm="", n=0)
            for number, line in enumerate(text):
                if number >= lines:
                    print("    …")
                    break
                print("    " + line[:300])
        except UnicodeDecodeError:
            pass
    print(f"{len(old_files & new_files)} files compared, {problems} difference(s)")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    recording = commands.add_parser("record")
    recording.add_argument("revision")
    recording.add_argument("out", type=Path)
    comparing = commands.add_parser("diff")
    comparing.add_argument("old", type=Path)
    comparing.add_argument("new", type=Path)
    checking = commands.add_parser("check")
    checking.add_argument("old", type=Path)
    dumping = commands.add_parser("dump")
    dumping.add_argument("out", type=Path)
    args = parser.parse_args()
    if args.command == "record":
        record(args.revision, args.out)
        return 0
    if args.command == "dump":
        dump(args.out)
        return 0
    if args.command == "diff":
        return 1 if diff(args.old, args.new) else 0
    new = Path(tempfile.gettempdir()) / "compare-exports-working-tree"
    record(".", new)
    return 1 if diff(args.old, new) else 0


if __name__ == "__main__":
    sys.exit(main())
