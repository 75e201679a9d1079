"""Executing a solution notebook in place, with byte-stable outputs.

``python -m nwlib.exercises --execute solutions/NN_topic.ipynb`` calls
:func:`execute`: the notebook runs top to bottom in a fresh kernel, in its own
folder, and its outputs are stored with consecutive printed outputs of a cell
merged into one (:func:`merge_streams`, as myst-nb's ``nb_merge_streams``
does), so re-executing a solution gives the same outputs whatever the kernel's
timing. A lost kernel message is retried in a fresh kernel; a cell that really
raises is not.
"""

from __future__ import annotations

import copy
import sys
import tempfile
from pathlib import Path

import nbformat

__all__ = ["execute", "merge_streams"]


def merge_streams(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Join consecutive stream outputs of the same name in every code cell.

    A kernel flushes printed text in chunks that depend on timing; one output per
    run of printing (``stdout`` or ``stderr``) makes re-executed notebooks
    byte-stable.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        A notebook; changed in place.

    Returns
    -------
    nbformat.NotebookNode
        ``nb``.

    Examples
    --------
    >>> from nbformat.v4 import new_code_cell, new_notebook, new_output
    >>> cell = new_code_cell("print(1); print(2)", outputs=[
    ...     new_output("stream", name="stdout", text="1\\n"),
    ...     new_output("stream", name="stdout", text="2\\n")])
    >>> [o.text for o in merge_streams(new_notebook(cells=[cell])).cells[0].outputs]
    ['1\\n2\\n']
    """
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        merged: list = []
        for out in cell.get("outputs", []):
            if (
                out.get("output_type") == "stream"
                and merged
                and merged[-1].get("output_type") == "stream"
                and merged[-1].get("name") == out.get("name")
            ):
                merged[-1]["text"] = merged[-1]["text"] + out["text"]
            else:
                merged.append(out)
        if "outputs" in cell:
            cell.outputs = merged
    return nb


def execute(path: Path, timeout: int = 300, tries: int = 3) -> None:
    """Run a notebook top to bottom in its own folder and store its outputs in place.

    Consecutive printed outputs are merged (:func:`merge_streams`). A cell that
    produces nothing for ``timeout`` seconds is taken as a lost kernel message,
    not as slow code (every cell of the course runs in well under a minute): the
    notebook is run again in a fresh kernel, up to ``tries`` times in all. On a
    busy machine nbclient occasionally waits forever for a reply from an idle
    ipykernel 7 kernel, most often after a cell that displays ipywidgets
    (jupyter/nbclient issue 312). Kernels talk over Unix sockets in a temporary
    folder, so several starting at once cannot race for a TCP port.

    Parameters
    ----------
    path : Path
        The notebook; rewritten with its new outputs.
    timeout : int, default 300
        Seconds a cell may stay silent.
    tries : int, default 3
        Runs in all, each in a fresh kernel.

    Raises
    ------
    nbclient.exceptions.CellExecutionError
        When a cell raises (never retried).
    nbclient.exceptions.CellTimeoutError, nbclient.exceptions.DeadKernelError
        When the last of ``tries`` runs also timed out or lost its kernel.

    Examples
    --------
    Starting a kernel is the point here, so the call is not run as a doctest:

    >>> execute(Path("solutions/01_kernels.ipynb"))  # doctest: +SKIP
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from traitlets.config import Config

    source = nbformat.read(path, as_version=4)
    for attempt in range(1, tries + 1):
        nb = copy.deepcopy(source)
        with tempfile.TemporaryDirectory(prefix="nwlib-kernel-") as sockets:
            cfg = Config()
            cfg.KernelManager.transport = "ipc"
            cfg.KernelManager.ip = str(Path(sockets) / "kernel")
            client = NotebookClient(
                nb,
                timeout=timeout,
                kernel_name="python3",
                record_timing=False,
                config=cfg,
                extra_arguments=["--IPKernelApp.log_level=CRITICAL"],
                resources={"metadata": {"path": str(Path(path).parent)}},
            )
            try:
                client.execute()
                break
            except (CellTimeoutError, DeadKernelError, TimeoutError) as exc:
                if attempt == tries:
                    raise
                print(
                    f"{Path(path).name}: {type(exc).__name__} (a lost kernel "
                    f"message); running it again in a fresh kernel "
                    f"({attempt + 1} of {tries})",
                    file=sys.stderr,
                )
    nbformat.write(merge_streams(nb), path)
