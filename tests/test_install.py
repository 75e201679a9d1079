"""Packaging: pyproject.toml declares what nwlib imports, and `pip install .` in an
empty virtual environment gives a package whose every module imports."""

import ast
import functools
import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import tomllib
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
STDLIB = sys.stdlib_module_names


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0].strip().lower()


def _third_party_imports(lazy: bool) -> set[str]:
    """Top-level names of the third-party modules nwlib imports: at module level
    (``lazy=False``) or inside functions (``lazy=True``)."""
    found = set()
    for path in (ROOT / "nwlib").rglob("*.py"):
        tree = ast.parse(path.read_text(), str(path))
        top = {id(node) for node in tree.body}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module]
            else:
                continue
            if (id(node) not in top) == lazy:
                found |= {n.split(".")[0] for n in names}
    return {n for n in found if n not in STDLIB and n != "nwlib"}


@functools.cache
def _distributions() -> dict[str, list[str]]:
    return importlib.metadata.packages_distributions()  # a few seconds: scan once


def _distribution(module: str) -> str:
    return _distributions()[module][0].lower()


def test_every_module_level_import_is_a_declared_dependency():
    declared = {_name(r) for r in PYPROJECT["project"]["dependencies"]}
    needed = {_distribution(m) for m in _third_party_imports(lazy=False)}
    assert needed, "the scan found no imports at all"
    assert needed <= declared, f"imported but not declared: {needed - declared}"


def test_every_lazy_import_is_declared_in_the_core_or_an_extra():
    declared = {_name(r) for r in PYPROJECT["project"]["dependencies"]}
    for extra in PYPROJECT["project"]["optional-dependencies"].values():
        declared |= {_name(r) for r in extra}
    needed = {_distribution(m) for m in _third_party_imports(lazy=True)}
    assert {"ipywidgets", "nbclient"} <= needed  # the scan sees the lazy imports
    assert needed <= declared, f"imported but not declared: {needed - declared}"


def test_torch_stays_pinned():
    """A range would let pip pick a newer release, a multi-GB CUDA build."""
    torch_req = [r for r in PYPROJECT["project"]["dependencies"] if _name(r) == "torch"]
    pinned = (ROOT / "requirements.txt").read_text()
    assert torch_req == ["torch==2.13.0"] and "\ntorch==2.13.0\n" in f"\n{pinned}"


@pytest.mark.slow
def test_pip_install_in_an_empty_venv_imports_every_module(tmp_path):
    """About a minute: a venv without system site-packages, `pip install .` from a copy
    of the sources (no build files left in the checkout), then import every module.
    Needs the package registries (pip's usual configuration)."""
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(
        ROOT / "nwlib",
        src / "nwlib",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    venv.create(tmp_path / "venv", with_pip=True, system_site_packages=False)
    python = tmp_path / "venv" / "bin" / "python"
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")
    }
    pip = subprocess.run(
        [python, "-m", "pip", "install", "--quiet", str(src)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert pip.returncode == 0, pip.stdout[-3000:] + pip.stderr[-3000:]
    script = (
        "import importlib, importlib.metadata, pkgutil, nwlib\n"
        "names = [m.name for m in pkgutil.walk_packages(nwlib.__path__, 'nwlib.')]\n"
        "for name in names: importlib.import_module(name)\n"
        "assert importlib.metadata.version('nwlib') == nwlib.__version__\n"
        "print(nwlib.__file__); print(len(names))\n"
    )
    run = subprocess.run(
        [python, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr[-3000:]
    where, count = run.stdout.split()
    assert "site-packages" in where and str(ROOT) not in where
    files = list((ROOT / "nwlib").rglob("*.py"))
    expected = {p.stem for p in files if p.stem != "__init__"}
    expected |= {p.parent.name for p in files if p.stem == "__init__"} - {"nwlib"}
    assert int(count) == len(expected)


def test_citation_and_license_match_the_package():
    cff = (ROOT / "CITATION.cff").read_text()
    assert re.search(r"^cff-version: 1\.2\.0$", cff, re.M)
    version = re.search(r"^version: (\S+)$", cff, re.M).group(1)
    assert version == PYPROJECT["project"]["version"]
    license_text = (ROOT / "LICENSE").read_text()
    assert "MIT License" in license_text and "CC BY 4.0" in license_text
    assert PYPROJECT["project"]["license"] == "MIT"


def test_version_reads_the_metadata_else_the_checkouts_pyproject(monkeypatch):
    import nwlib

    monkeypatch.setattr(importlib.metadata, "version", lambda name: "9.8.7")
    assert nwlib._version() == "9.8.7"  # installed: the distribution's metadata

    def not_installed(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "version", not_installed)
    assert nwlib._version() == PYPROJECT["project"]["version"] == "1.0.0"
