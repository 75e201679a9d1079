"""Every public function and class of nwlib has a numpy-style docstring.

numpydoc's own validator (``numpydoc.validate.validate``) reads each docstring;
the test enforces the checks in ``ENFORCED``: a one-line summary, every
parameter documented (with a description, and none that does not exist), a
Returns section for functions, and an Examples section (run as a doctest by
``pytest --doctest-modules nwlib``).

Public means: a module of nwlib whose name has no leading underscore (and no
private package on its path), and the names in its ``__all__`` (every public
module must define one). A name re-exported by several modules is checked once,
under the first one that lists it. Each object is validated itself, not looked up
by name, so that a class made on first use (``nwlib.nbgrader_course.LearnerCopy``)
is checked too.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest
from numpydoc.validate import get_doc_object, validate

import nwlib

#: numpydoc checks enforced (see numpydoc's "Validation" docs for the codes).
ENFORCED = {
    "GL08": "no docstring",
    "SS01": "no summary",
    "SS06": "the summary spans more than one line",
    "PR01": "a parameter is not documented",
    "PR02": "a documented parameter does not exist",
    "PR07": "a parameter has no description",
    "RT01": "no Returns section",
    "EX01": "no Examples section",
}


def _public_modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(nwlib.__path__, "nwlib."):
        if any(part.startswith("_") for part in info.name.split(".")[1:]):
            continue
        names.append(info.name)
    return sorted(names)


ALL_MODULES = _public_modules()
MODULES = ALL_MODULES


def _public_objects(modules: list[str]) -> list[tuple[str, object]]:
    """(qualified name, object) for every public function and class, once each."""
    seen, out = set(), []
    for modname in modules:
        mod = importlib.import_module(modname)
        for name in getattr(mod, "__all__", []):
            obj = getattr(mod, name)
            if not (inspect.isfunction(obj) or inspect.isclass(obj)):
                continue  # constants (KERNELS, PARAMETERIZATIONS, ...)
            if id(obj) in seen:
                continue
            seen.add(id(obj))
            out.append((f"{obj.__module__}.{obj.__qualname__}", obj))
    return out


def _errors(qualname: str, obj: object) -> list[str]:
    result = validate(get_doc_object(obj))
    errors = []
    for code, message in result["errors"]:
        if code not in ENFORCED:
            continue
        if code == "RT01" and inspect.isclass(obj):
            continue  # classes have no Returns; numpydoc asks only of functions
        errors.append(f"{code} {message}")
    return errors


@pytest.mark.parametrize("modname", ALL_MODULES)
def test_every_public_module_defines_all(modname):
    mod = importlib.import_module(modname)
    assert isinstance(getattr(mod, "__all__", None), list), (
        f"{modname} has no __all__ list: name its public functions and classes"
    )
    missing = [name for name in mod.__all__ if not hasattr(mod, name)]
    assert not missing, f"{modname}.__all__ names what it does not define: {missing}"


def test_the_public_modules_are_found():
    assert {"nwlib.pooling", "nwlib.checks.ch01", "nwlib.nbgrader_course"} <= set(
        ALL_MODULES
    ), ALL_MODULES


def _cases():
    for qualname, obj in _public_objects(MODULES):
        yield pytest.param(qualname, obj, id=qualname)


@pytest.mark.parametrize("qualname,obj", list(_cases()))
def test_public_docstring_has_the_numpydoc_sections(qualname, obj):
    errors = _errors(qualname, obj)
    assert not errors, f"{qualname}:\n  " + "\n  ".join(errors)


def test_the_check_can_fail():
    """A function with a bare docstring fails every enforced section check."""
    errors = _errors(f"{__name__}._bare", _bare)
    codes = {e.split()[0] for e in errors}
    assert {"PR01", "RT01", "EX01"} <= codes, errors


def _bare(x):
    """Do something
    over two lines."""
    return x
