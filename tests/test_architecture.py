"""The library's imports run one way: no cycle, the CSV/GeoJSON writer sits below the analyses, and the readers of
the analyses' input files import no analysis."""

from __future__ import annotations

import ast

from equity import config

LIBRARY = config.REPO_ROOT / "equity"
BELOW_THE_ANALYSES = {"columns", "config", "errors", "sources", "geography", "estimates", "metrics"}
ANALYSES = {"maps", "libraries", "compare", "targets", "change", "acp"}
FILE_READERS = {"library_files", "target_files"}
"""Modules reading an analysis's input files: the raw snapshot's library files, a person's upload, the project's
data/ files."""


def library_imports() -> dict[str, set[str]]:
    """For each module of ``equity``, the modules of ``equity`` it imports."""
    modules = {path.stem for path in LIBRARY.glob("*.py")}
    graph = {}
    for path in LIBRARY.glob("*.py"):
        imported = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                imported |= {node.module} if node.module else {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("equity"):
                name = node.module.removeprefix("equity").lstrip(".")
                imported |= {name} if name else {alias.name for alias in node.names}
        graph[path.stem] = {name.split(".")[0] for name in imported} & modules - {path.stem}
    return graph


def test_the_library_has_no_import_cycle():
    graph = library_imports()
    done, active = set(), []

    def visit(module: str) -> None:
        if module in active:
            raise AssertionError("import cycle: " + " -> ".join(active[active.index(module):] + [module]))
        if module in done:
            return
        active.append(module)
        for name in sorted(graph[module]):
            visit(name)
        active.pop()
        done.add(module)

    for module in sorted(graph):
        visit(module)


def test_the_writer_imports_nothing_above_metrics():
    assert library_imports()["exports"] <= BELOW_THE_ANALYSES


def test_the_file_readers_import_no_analysis():
    graph = library_imports()
    assert {reader: graph[reader] & ANALYSES for reader in FILE_READERS} == {reader: set() for reader in FILE_READERS}


def test_pages_holds_only_the_page_scripts_app_py_navigates_to():
    from tests.test_data_dictionary_pages import PAGES

    scripts = {path.name for path in (config.REPO_ROOT / "pages").glob("*.py")}
    assert scripts == {page.removeprefix("pages/") for page in PAGES}


def test_streamlit_internals_are_touched_in_one_module_only():
    """Private Streamlit or pydeck names (``streamlit.<module>`` imports, ``PagesManager``, a deck's
    ``_tooltip``) appear only in dashboard/streamlit_internals.py."""
    public = ("streamlit.testing", "streamlit.errors")
    touched = []
    for folder in ("equity", "dashboard", "pages"):
        for path in (config.REPO_ROOT / folder).glob("*.py"):
            if path.name == "streamlit_internals.py":
                continue
            text = path.read_text(encoding="utf-8")
            for node in ast.walk(ast.parse(text)):
                if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(("streamlit.", "pydeck.")):
                    if not node.module.startswith(public):
                        touched.append(f"{folder}/{path.name}: from {node.module} import ...")
            if "PagesManager" in text or "._tooltip" in text:
                touched.append(f"{folder}/{path.name}: PagesManager or a deck's _tooltip")
    assert not touched, touched
