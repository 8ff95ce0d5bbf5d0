"""The package's shape: imports flow one way (no cycle), and the composition root stays small."""

import ast
from pathlib import Path

from tests.conftest import ROOT

PACKAGE = ROOT / "qa"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, known: set[str]) -> set[str]:
    """The package's own modules that `path` imports, at run time or for type checking alike."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        for name in names:
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name:
                found.add(name)
    return found


def import_graph() -> dict[str, set[str]]:
    files = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    known = set(files)
    graph = {m: imports_of(p, known) - {m} for m, p in files.items()}
    # A package's __init__ is not an edge of its own modules' imports of their siblings.
    return {m: {t for t in targets if not (t != "qa" and m.startswith(t + "."))} - {"qa"} for m, targets in graph.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return []

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return []


def test_the_package_imports_have_no_cycle():
    graph = import_graph()
    assert "qa.store.base" in graph["qa.config"] and "qa.indexer" in graph["qa.chatbot"]  # the graph is read
    assert find_cycle(graph) == []


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) == []


def test_the_runtime_never_imports_the_offline_tools():
    graph = import_graph()
    offline = ("qa.eval", "qa.train")
    for module, targets in graph.items():
        if module.startswith(offline) or module in ("qa.cli",):  # the CLI's eval and train-reader commands call them
            continue
        assert not [t for t in targets if t.startswith(offline)], module


def test_only_the_indexer_writes_to_a_store():
    writes = ("upsert(", ".delete(", ".save()")
    for path in PACKAGE.rglob("*.py"):
        name = module_name(path)
        if name.startswith(("qa.store", "qa.indexer", "qa.train", "qa.eval")):
            continue
        text = path.read_text(encoding="utf-8")
        assert not [w for w in writes if w in text and "store" in text.split(w)[0][-40:]], name


def test_the_chatbot_composes_and_holds_no_indexing():
    source = (PACKAGE / "chatbot.py").read_text(encoding="utf-8")
    chatbot = next(n for n in ast.parse(source).body if isinstance(n, ast.ClassDef) and n.name == "Chatbot")
    assert chatbot.end_lineno - chatbot.lineno + 1 <= 150
    for indexing in ("chunk_document", "upsert", "token_offsets", "load_paths", "open_store", "salvage_store"):
        assert indexing not in source
