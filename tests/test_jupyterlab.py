"""The exercise notebooks in the front ends a learner uses: JupyterLab 4, Notebook 7.

One Jupyter server (``jupyter lab``, which also serves Notebook 7's ``/tree`` and
``/notebooks/``) is started on 127.0.0.1, on a free port, with a token, over a scratch
copy of ``exercises/`` (and of ``solutions/`` with their outputs cleared) in
``tmp_path``. Debian's Chromium, driven by playwright, then does what a learner does:

* opens every exercise notebook (found by glob) in JupyterLab (File > Open from Path...,
  in one of two JupyterLab tabs that each work through their share, so two kernels run
  at once), clicks Run > Run All Cells, waits until the kernel is idle, saves with
  Ctrl+S and closes with File > Close and Shut Down Notebook: no cell may show a
  traceback, every cell must have run, every cell calling a check (``chNN.name(``) must
  print a verdict, and every verdict of the untouched notebook must say "Not done yet";
* does the same with each notebook filled from its solution: every check says
  "Correct", with no warning printed in a check's cell;
* drags the slider of a width explorer (an ipywidgets panel from
  ``nwlib.explorer.width_explorer``; a scratch notebook provides one if no exercise
  does) and compares the figure before and after;
* opens one exercise in Notebook 7 (the ``/tree`` listing, then ``/notebooks/...``),
  runs it through its menu and checks it, and drags an explorer there too.

Offline: the browser may request only the server it was pointed at (every other
request is refused and fails the test); the server and its kernels get a proxy that
leads nowhere, no news feed, no update check, and a read-only extension manager.
The server runs in its own process group; teardown shuts it down through its API,
then terminates that group, and fails if any kernel process it started is left.
Needs ``make browser`` (Debian's chromium); never ``playwright install``. The time of
each step of each notebook and the CPU seconds used are printed (``pytest -s``).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest
from _chromium import launch

pytestmark = pytest.mark.browser  # a Jupyter server and chromium: `make unit` skips it

ROOT = Path(__file__).resolve().parents[1]
EXERCISES = sorted(
    p for p in (ROOT / "exercises").glob("*.ipynb") if not p.name.endswith(".bak.ipynb")
)
SOLUTIONS = sorted(
    p for p in (ROOT / "solutions").glob("*.ipynb") if not p.name.endswith(".bak.ipynb")
)
VERDICT = re.compile(r"^(Correct|Not quite|Not done yet):", re.M)
# A cell that runs a self-check: ``ch01.epanechnikov(epanechnikov)``,
# ``checks.ch02.x(...)``.
CHECK_CALL = re.compile(r"\bch\d\d\.[A-Za-z_]\w*\s*\(")
NOTEBOOK_TIMEOUT_S = 150
PARALLEL = (
    2  # notebooks running at once (tabs, each with its own kernel): 2 cores in CI
)
SERVER_START_TIMEOUT_S = 90

# Settings a fresh learner's JupyterLab would be asked about, answered once for the
# test: no news or update check (they fetch from the internet), the default kernel
# starts without a dialog, every cell stays in the DOM (no windowing), closing a
# notebook ends its kernel.
USER_SETTINGS = {
    "@jupyterlab/apputils-extension/notification": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
    "@jupyterlab/notebook-extension/tracker": {
        "windowingMode": "none",
        "autoStartDefaultKernel": True,
        "kernelShutdown": True,
    },
}


# --- the server ---


@dataclass
class Server:
    base: str
    token: str
    root: Path
    proc: subprocess.Popen
    log: Path
    pids: set[int] = field(default_factory=set)  # every process the server started

    def api(
        self, method: str, path: str, body: dict | None = None, timeout: float = 10
    ):
        req = urllib.request.Request(
            self.base + path,
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={
                "Authorization": f"token {self.token}",
                "Content-Type": "application/json",
            },
        )
        opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({})
        )  # never a proxy
        with opener.open(req, timeout=timeout) as resp:
            data = resp.read()
        return json.loads(data) if data else None

    def remember_children(self) -> None:
        import psutil

        try:
            self.pids.update(
                p.pid for p in psutil.Process(self.proc.pid).children(recursive=True)
            )
        except psutil.NoSuchProcess:
            pass

    def stop_kernels(self, path: str | None = None) -> None:
        """End the session and kernel of notebook ``path`` (all of them if None).

        As closing the notebook with "Shut down kernel" does.
        """
        self.remember_children()
        for s in self.api("GET", "/api/sessions"):
            if path is None or s.get("path") == path:
                self.api("DELETE", f"/api/sessions/{s['id']}")
        if path is None:
            for k in self.api("GET", "/api/kernels"):
                self.api("DELETE", f"/api/kernels/{k['id']}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _write_settings(config_dir: Path) -> None:
    for plugin, values in USER_SETTINGS.items():
        path = config_dir / "lab" / "user-settings" / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


def _cleared(src: Path, dest: Path) -> None:
    """A copy of a solution notebook with its outputs and execution counts removed."""
    nb = nbformat.read(src, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    nbformat.write(nb, dest)


def _explorer_notebook(dest: Path) -> None:
    from nbformat.v4 import new_code_cell, new_notebook

    nb = new_notebook(
        cells=[
            new_code_cell(
                "from nwlib.data import running_example\n"
                "from nwlib.explorer import WidthSweep, width_explorer\n\n"
                "data = running_example()\n"
                "width_explorer(WidthSweep(data.x_train, data.y_train))"
            )
        ]
    )
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, dest)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if not EXERCISES:
        pytest.fail("no exercises/*.ipynb found")
    tmp = tmp_path_factory.mktemp("jupyterlab")
    root = tmp / "root"
    (root / "exercises").mkdir(parents=True)
    (root / "filled").mkdir()
    (root / "scratch").mkdir()
    for p in EXERCISES:
        shutil.copy2(p, root / "exercises" / p.name)
    for p in SOLUTIONS:
        _cleared(p, root / "filled" / p.name)
    _explorer_notebook(root / "scratch" / "explorer.ipynb")
    config = tmp / "config"
    _write_settings(config)

    token = secrets.token_hex(16)
    port = _free_port()
    env = dict(os.environ)
    env.update(
        {
            "JUPYTER_CONFIG_DIR": str(config),
            "JUPYTER_DATA_DIR": str(tmp / "data"),
            "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"),
            "IPYTHONDIR": str(tmp / "ipython"),
            "PYTHONPATH": os.pathsep.join(
                [str(ROOT)]
                + ([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else [])
            ),
            # Anything in the server or a kernel that honours a proxy finds none that
            # works.
            "HTTP_PROXY": "http://127.0.0.1:9",
            "HTTPS_PROXY": "http://127.0.0.1:9",
            "http_proxy": "http://127.0.0.1:9",
            "https_proxy": "http://127.0.0.1:9",
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
        }
    )
    cmd = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--port-retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        "--ServerApp.terminals_enabled=False",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    log = tmp / "server.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            cmd,
            cwd=root,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    srv = Server(f"http://127.0.0.1:{port}", token, root, proc, log)
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                pytest.fail(
                    f"jupyter lab exited with {proc.returncode}:\n"
                    f"{log.read_text()[-3000:]}"
                )
            try:
                srv.api("GET", "/api/status", timeout=2)
                break
            except (urllib.error.URLError, OSError):
                if time.monotonic() > deadline:
                    pytest.fail(
                        f"jupyter lab did not answer in {SERVER_START_TIMEOUT_S} s:\n"
                        f"{log.read_text()[-3000:]}"
                    )
                time.sleep(0.3)
        yield srv
    finally:
        _stop(srv)


def _stop(srv: Server) -> None:
    """Shut down this server and its kernels, and nothing else."""
    import psutil

    try:
        srv.stop_kernels()
    except Exception:
        pass
    srv.remember_children()
    try:
        srv.api("POST", "/api/shutdown", timeout=5)
    except Exception:
        pass
    try:
        srv.proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        pass
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        if srv.proc.poll() is not None:
            break
        try:
            os.killpg(
                srv.proc.pid, sig
            )  # the group we started (start_new_session=True)
        except ProcessLookupError:
            break
        try:
            srv.proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            pass
    left = []
    for pid in sorted(srv.pids):
        try:
            p = psutil.Process(pid)
            if p.status() == psutil.STATUS_ZOMBIE:
                continue
            left.append(f"{pid} {' '.join(p.cmdline())[:120]}")
            p.kill()  # a kernel this server started and did not end
        except psutil.NoSuchProcess:
            pass
    assert not left, (
        "processes the Jupyter server started were still running:\n" + "\n".join(left)
    )


# --- the browser ---


@dataclass
class Browser:
    context: object
    base: str
    external: list[str] = field(default_factory=list)
    failed_local: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def browser(server, tmp_path_factory):
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")
    local = (server.base + "/", "data:", "blob:")
    with sync_playwright() as pw:
        context = launch(pw, profile, viewport={"width": 1280, "height": 900})
        b = Browser(context, server.base)
        context.set_default_timeout(30_000)

        def on_request(req):
            if not req.url.startswith(local):
                b.external.append(req.url)

        def on_response(resp):
            if resp.status >= 400:
                b.failed_local.append(f"{resp.status} {resp.url}")

        context.on("request", on_request)
        context.on("response", on_response)
        context.route(
            lambda url: not url.startswith(local), lambda route: route.abort()
        )
        try:
            yield b
        finally:
            context.close()


# --- a learner's session ---


@dataclass
class Run:
    """What one notebook showed after Run All."""

    name: str
    front_end: str
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)  # could not open, run, or save
    tracebacks: list[str] = field(default_factory=list)
    not_run: list[int] = field(default_factory=list)
    verdicts: list[tuple[int, str]] = field(
        default_factory=list
    )  # (cell, verdict line)
    silent_checks: list[int] = field(
        default_factory=list
    )  # a check cell with no verdict
    warnings_in_checks: list[str] = field(default_factory=list)
    explorers: int = 0
    explorer_result: str | None = None  # None: not tried; "" ok; else the problem
    phases: dict[str, float] = field(default_factory=dict)  # seconds spent in each step


# The notebook on show: JupyterLab keeps other tabs in the DOM, hidden.
ACTIVE = ".jp-NotebookPanel:not(.lm-mod-hidden)"
CELLS_JS = r"""
() => Array.from(document.querySelectorAll(
    '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell')).map(c => ({
  code: c.classList.contains('jp-CodeCell'),
  prompt: (c.querySelector('.jp-InputPrompt') || {}).textContent || '',
  outputs: Array.from(c.querySelectorAll('.jp-OutputArea-output'))
    .map(o => o.textContent),
  explorers: c.querySelectorAll('.widget-interact .widget-slider').length,
}))
"""


def _wait_idle(page, server: Server, path: str, timeout: float) -> None:
    """Wait until no cell waits ([*]) and the kernel of ``path`` reports idle.

    Both must hold twice in a row.
    """
    deadline = time.monotonic() + timeout
    calm = 0
    while calm < 2:
        if time.monotonic() > deadline:
            raise TimeoutError(f"still running after {timeout:.0f} s")
        page.wait_for_timeout(400)
        busy = page.evaluate(
            f"() => Array.from(document.querySelectorAll('{ACTIVE} .jp-InputPrompt'))"
            ".some(p => p.textContent.includes('*'))"
        )
        states = [
            s["kernel"]["execution_state"]
            for s in server.api("GET", "/api/sessions")
            if s.get("path") == path and s.get("kernel")
        ]
        calm = (
            calm + 1
            if (not busy and states and all(s == "idle" for s in states))
            else 0
        )


def _menu(page, top: str, item: str) -> None:
    """Click a menu bar entry, then the item whose label starts with ``item``."""
    page.locator(
        ".lm-MenuBar-item", has_text=re.compile(f"^{re.escape(top)}$")
    ).first.click()
    page.locator(
        ".lm-Menu-item:visible .lm-Menu-itemLabel",
        has_text=re.compile(f"^{re.escape(item)}"),
    ).first.click()


def _accept_dialogs(page, wait_ms: int = 300) -> None:
    for _ in range(3):
        page.wait_for_timeout(wait_ms)
        accept = page.locator(".jp-Dialog .jp-mod-accept")
        if not accept.count():
            return
        accept.first.click()


def _open(page, server: Server, url: str | None, path: str) -> None:
    """Open ``path``, then wait for its kernel.

    By its URL in a new page (Notebook 7), or in the JupyterLab already on ``page``
    with File > Open from Path....
    """
    if url is not None:
        page.goto(url, wait_until="domcontentloaded")
    else:
        _menu(page, "File", "Open from Path")
        page.locator(".jp-Dialog input").fill(path)
        page.locator(".jp-Dialog .jp-mod-accept").click()
    page.wait_for_selector(f"{ACTIVE} .jp-Notebook .jp-Cell", timeout=60_000)
    # A notebook without kernel metadata asks which kernel to use: take the default.
    deadline = time.monotonic() + 60
    while True:
        dialog = page.locator(".jp-Dialog .jp-mod-accept")
        if dialog.count():
            dialog.first.click()
        sessions = [
            s
            for s in server.api("GET", "/api/sessions")
            if s.get("path") == path and s.get("kernel")
        ]
        if sessions and sessions[0]["kernel"]["execution_state"] == "idle":
            return
        if time.monotonic() > deadline:
            raise TimeoutError("the kernel did not start within 60 s")
        page.wait_for_timeout(300)


def _run_all(page) -> None:
    """Run > Run All Cells, through the menu bar (JupyterLab and Notebook 7 alike)."""
    _menu(page, "Run", "Run All Cells")


def _save(page, server: Server, path: str) -> dict:
    """Ctrl+S, then the notebook as the front end wrote it."""
    page.locator(f"{ACTIVE} .jp-Notebook").first.click(
        position={"x": 2, "y": 2}
    )  # focus
    page.keyboard.press("Escape")
    before = server.api("GET", f"/api/contents/{path}?content=0")["last_modified"]
    page.keyboard.press("Control+s")
    deadline = time.monotonic() + 20
    while (
        server.api("GET", f"/api/contents/{path}?content=0")["last_modified"] == before
    ):
        if time.monotonic() > deadline:
            raise TimeoutError("Ctrl+S did not save the notebook")
        page.wait_for_timeout(200)
    return server.api("GET", f"/api/contents/{path}?content=1")["content"]


def _text(output: dict) -> str:
    if output.get("output_type") == "stream":
        return "".join(output.get("text", ""))
    if output.get("output_type") == "error":
        return "\n".join(output.get("traceback", []))
    return "".join(output.get("data", {}).get("text/plain", ""))


def _judge(run: Run, nb: dict, dom: list[dict]) -> None:
    ansi = re.compile(r"\x1b\[[0-9;]*m")
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        if source.strip() and cell.get("execution_count") is None:
            run.not_run.append(i)
        found = False
        for out in cell.get("outputs", []):
            text = ansi.sub("", _text(out))
            if out.get("output_type") == "error" or "Traceback" in text:
                last = (
                    text.strip().splitlines()[-1]
                    if text.strip()
                    else out.get("ename", "")
                )
                run.tracebacks.append(f"cell {i}: {out.get('ename', '')}: {last[:200]}")
            if (
                out.get("output_type") == "stream"
                and out.get("name") == "stderr"
                and CHECK_CALL.search(source)
                and text.strip()
            ):
                run.warnings_in_checks.append(f"cell {i}: {text.strip()[:200]}")
            for line in text.splitlines():
                if VERDICT.match(line):
                    run.verdicts.append((i, line))
                    found = True
        if CHECK_CALL.search(source) and not found:
            run.silent_checks.append(i)
    for j, cell in enumerate(dom):  # what the page shows, as well as what it saved
        for text in cell["outputs"]:
            if "Traceback" in text and not any(
                t.startswith(f"cell {j}:") for t in run.tracebacks
            ):
                run.tracebacks.append(f"cell {j} (on the page): {text.strip()[-200:]}")


def _drag_explorer(page, front_end: str) -> str:
    """Drag the first width explorer's slider.

    Returns '' if the figure changed, else why not.
    """
    panel = page.locator(f"{ACTIVE} .widget-interact:has(.widget-slider)").first
    handle = panel.locator(".widget-slider .noUi-handle").first
    image = panel.locator(".widget-output img").first
    try:
        image.wait_for(timeout=30_000)
    except Exception:
        return f"{front_end}: the explorer shows no figure"
    before = image.get_attribute("src")
    value_before = handle.get_attribute("aria-valuenow")
    handle.scroll_into_view_if_needed()
    box = handle.bounding_box()
    track = panel.locator(".widget-slider .noUi-base").first.bounding_box()
    if not box or not track:
        return f"{front_end}: the explorer's slider is not visible"
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    target = min(track["x"] + track["width"] - 2, x + 0.3 * track["width"])
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(target, y, steps=12)
    page.mouse.up()
    deadline = time.monotonic() + 30
    after = before
    while time.monotonic() < deadline:
        page.wait_for_timeout(250)
        img = panel.locator(".widget-output img").first
        if img.count():
            after = img.get_attribute("src")
            if after and after != before:
                break
    value_after = handle.get_attribute("aria-valuenow")
    if value_after == value_before:
        return f"{front_end}: dragging did not move the slider ({value_before})"
    if after == before:
        return (
            f"{front_end}: the slider moved ({value_before} -> {value_after}) but the "
            f"figure did not change within 30 s"
        )
    return ""


class Lane:
    """One JupyterLab tab, loaded once, in which notebooks open and close in turn."""

    def __init__(self, browser: Browser, server: Server, name: str) -> None:
        self.browser, self.server, self.name = browser, server, name
        self.page = None
        self.load()

    def load(self) -> None:
        if self.page is not None:
            self.page.close()
        self.page = self.browser.context.new_page()
        self.page.on(
            "pageerror",
            lambda exc: self.browser.page_errors.append(
                f"JupyterLab {self.name}: {exc}"
            ),
        )
        self.page.goto(
            f"{self.server.base}/lab/workspaces/{self.name}?reset"
            f"&token={self.server.token}",
            wait_until="domcontentloaded",
        )
        self.page.wait_for_selector(".lm-MenuBar-item", timeout=60_000)


class Session:
    """One notebook: opened and Run All started, later finished.

    Finishing checks, saves and closes it. In JupyterLab it opens in a
    :class:`Lane` (File > Open from Path..., closed with File > Close and Shut Down
    Notebook); in Notebook 7 in a page of its own.
    """

    def __init__(
        self,
        browser: Browser,
        server: Server,
        path: str,
        lane: Lane | None = None,
        drag: bool = True,
    ) -> None:
        self.browser, self.server, self.path, self.lane, self.drag = (
            browser,
            server,
            path,
            lane,
            drag,
        )
        self.run = Run(path, "JupyterLab" if lane else "Notebook 7")
        self.start = time.perf_counter()
        if lane is None:
            self.page = browser.context.new_page()
            self.page.on(
                "pageerror", lambda exc: browser.page_errors.append(f"{path}: {exc}")
            )
            url = f"{server.base}/notebooks/{path}?token={server.token}"
        else:
            self.page, url = lane.page, None
        try:
            # A tab in the background gets no animation frames, and JupyterLab waits for
            # them: the tab being worked on is always brought to the front.
            self.page.bring_to_front()
            _open(self.page, server, url, path)
            self._lap("open")
            _run_all(self.page)
        except Exception as exc:
            self._problem(exc)

    def _lap(self, phase: str) -> None:
        now = time.perf_counter()
        self.run.phases[phase] = now - getattr(self, "_last", self.start)
        self._last = now

    def _problem(self, exc: Exception) -> None:
        self.run.problems.append(
            f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}"
        )

    def finish(self) -> Run:
        run, page = self.run, self.page
        try:
            page.bring_to_front()
            if not run.problems:
                remaining = NOTEBOOK_TIMEOUT_S - (time.perf_counter() - self.start)
                _wait_idle(page, self.server, self.path, max(remaining, 5))
                self._lap("run")
                dom = page.evaluate(CELLS_JS)
                run.explorers = sum(c["explorers"] for c in dom)
                if self.drag and run.explorers:
                    run.explorer_result = _drag_explorer(page, run.front_end)
                    self._lap("drag")
                nb = _save(page, self.server, self.path)
                self._lap("save")
                _judge(run, nb, dom)
        except Exception as exc:
            self._problem(exc)
        finally:
            self._close()
            self._lap("close")
        run.seconds = time.perf_counter() - self.start
        return run

    def _close(self) -> None:
        if self.lane is None:
            self.page.close()
        else:
            try:
                _menu(self.page, "File", "Close and Shut Down Notebook")
                _accept_dialogs(self.page)
                self.page.wait_for_function(
                    "() => !document.querySelector('.jp-NotebookPanel')", timeout=10_000
                )
            except Exception:
                self.lane.load()  # a fresh JupyterLab for the next notebook
        self.server.stop_kernels(self.path)


def _run_notebooks(
    browser: Browser, server: Server, paths: list[str]
) -> dict[str, Run]:
    """Run the notebooks in JupyterLab, PARALLEL at a time (one lane each), in order."""
    lanes = [
        Lane(browser, server, f"lane-{i}") for i in range(min(PARALLEL, len(paths)))
    ]
    out: dict[str, Run] = {}
    flying: list[Session] = []
    try:
        for path in paths:
            if len(flying) == len(lanes):
                done = flying.pop(0)
                out[done.path] = done.finish()
            busy = {id(f.lane) for f in flying}
            lane = next(la for la in lanes if id(la) not in busy)
            flying.append(Session(browser, server, path, lane))
        for done in flying:
            out[done.path] = done.finish()
    finally:
        for lane in lanes:
            lane.page.close()
    return out


def _cpu_report(server: Server) -> str:
    """CPU time so far of the server with its ended kernels, the browser and pytest."""
    import psutil

    def total(p) -> float:
        t = p.cpu_times()
        return t.user + t.system + t.children_user + t.children_system

    try:
        srv = psutil.Process(server.proc.pid)
        server_cpu = total(srv)
        server_tree = {srv.pid} | {c.pid for c in srv.children(recursive=True)}
        others = [
            c
            for c in psutil.Process().children(recursive=True)
            if c.pid not in server_tree
        ]
        browser_cpu = sum(total(c) for c in others)
        own = os.times()
        return (
            f"server and kernels {server_cpu:.0f}, browser {browser_cpu:.0f}, "
            f"pytest {own.user + own.system:.0f}; load average {os.getloadavg()[0]:.1f}"
        )
    except Exception as exc:  # only a diagnostic
        return f"not measured ({exc})"


@pytest.fixture(scope="module")
def runs(server, browser):
    """Every notebook once, in one server and one browser; timings printed."""
    start = time.perf_counter()
    paths = [f"exercises/{p.name}" for p in EXERCISES] + [
        f"filled/{p.name}" for p in SOLUTIONS
    ]
    out = _run_notebooks(browser, server, paths)
    if not any(r.explorers for r in out.values()):
        out.update(_run_notebooks(browser, server, ["scratch/explorer.ipynb"]))
    # Notebook 7: the file listing, then one exercise (one with an explorer, if any).
    page = browser.context.new_page()
    try:
        page.goto(f"{server.base}/tree/exercises?token={server.token}")
        page.wait_for_selector(".jp-DirListing-item", timeout=60_000)
        page.wait_for_timeout(500)
        listed = page.evaluate(
            "() => Array.from(document.querySelectorAll("
            "'.jp-DirListing-itemText')).map(e => e.textContent.trim())"
        )
    except Exception as exc:
        listed = [f"could not open /tree: {exc}"]
    finally:
        page.close()
    with_explorer = [
        n for n, r in out.items() if n.startswith("exercises/") and r.explorers
    ]
    nb7_path = with_explorer[0] if with_explorer else f"exercises/{EXERCISES[0].name}"
    nb7 = Session(browser, server, nb7_path).finish()
    if not nb7.explorers:
        scratch = Session(browser, server, "scratch/explorer.ipynb").finish()
        nb7.explorers, nb7.explorer_result = scratch.explorers, scratch.explorer_result
        nb7.name += " (explorer: scratch/explorer.ipynb)"
        nb7.problems += [f"scratch explorer: {p}" for p in scratch.problems]
    elapsed = time.perf_counter() - start
    print(
        f"\nJupyterLab/Notebook 7 test: {len(out) + 1} notebooks in {elapsed:.1f} s "
        f"(CPU seconds: {_cpu_report(server)})"
    )
    for r in list(out.values()) + [nb7]:
        print(
            f"  {r.front_end:10s} {r.name}: {r.seconds:.1f} s, "
            f"{len(r.verdicts)} verdicts, "
            f"{len(r.tracebacks)} tracebacks, {r.explorers} explorers"
            + (
                f", slider: {r.explorer_result or 'redraws'}"
                if r.explorer_result is not None
                else ""
            )
            + (f", problems: {r.problems}" if r.problems else "")
            + " ("
            + ", ".join(f"{k} {v:.1f}" for k, v in r.phases.items())
            + ")"
        )
    if browser.failed_local:
        print(
            "  local requests that failed (not counted as errors): "
            f"{browser.failed_local[:6]}"
        )
    if browser.page_errors:
        print(f"  page errors: {browser.page_errors[:6]}")
    return {"runs": out, "nb7": nb7, "listed": listed, "seconds": elapsed}


# --- tests ---


def _report(bad: dict[str, list[str]]) -> str:
    return "\n".join(f"{n}:\n    " + "\n    ".join(v) for n, v in bad.items())


def _basic(run: Run) -> list[str]:
    items = list(run.problems)
    items += [f"traceback: {t}" for t in run.tracebacks]
    items += [f"cell {i} did not run (Run All stopped?)" for i in run.not_run]
    items += [
        f"cell {i} calls a check but printed no verdict" for i in run.silent_checks
    ]
    return items


@pytest.mark.parametrize("name", [p.name for p in EXERCISES])
def test_untouched_exercise_runs_and_every_check_says_not_done(runs, name):
    run = runs["runs"][f"exercises/{name}"]
    items = _basic(run)
    items += [
        f"cell {i}: {v}" for i, v in run.verdicts if not v.startswith("Not done yet:")
    ]
    if not run.verdicts and not run.problems:
        items.append("no self-check verdict at all")
    assert not items, _report({f"exercises/{name} in JupyterLab": items})


@pytest.mark.parametrize("name", [p.name for p in SOLUTIONS])
def test_filled_from_solution_every_check_says_correct(runs, name):
    run = runs["runs"][f"filled/{name}"]
    items = _basic(run)
    items += [f"cell {i}: {v}" for i, v in run.verdicts if not v.startswith("Correct:")]
    items += [f"printed under a check: {w}" for w in run.warnings_in_checks]
    if not run.verdicts and not run.problems:
        items.append("no self-check verdict at all")
    assert not items, _report({f"{name} filled from solutions/ in JupyterLab": items})


def test_width_explorer_slider_redraws_the_figure(runs):
    tried = {n: r for n, r in runs["runs"].items() if r.explorer_result is not None}
    assert tried, "no width explorer was found or opened in any notebook"
    bad = {n: [r.explorer_result] for n, r in tried.items() if r.explorer_result}
    assert not bad, _report(bad)


def test_notebook7_lists_runs_and_checks_one_notebook(runs):
    nb7 = runs["nb7"]
    missing = [p.name for p in EXERCISES if p.name not in runs["listed"]]
    items = (
        [f"/tree/exercises does not list {missing} (it shows {runs['listed'][:10]})"]
        if missing
        else []
    )
    items += _basic(nb7)
    want = "Correct:" if nb7.name.startswith("filled/") else "Not done yet:"
    items += [f"cell {i}: {v}" for i, v in nb7.verdicts if not v.startswith(want)]
    if nb7.explorer_result is None:
        items.append("no width explorer could be opened in Notebook 7")
    elif nb7.explorer_result:
        items.append(nb7.explorer_result)
    assert not items, _report({f"{nb7.name} in Notebook 7": items})


def test_nothing_leaves_the_machine(runs, browser):
    assert not browser.external, (
        "requests outside the local Jupyter server (refused):\n"
        + "\n".join(sorted(set(browser.external))[:20])
    )
