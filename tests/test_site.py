"""The built website, in a real browser, offline.

Runs against the already-built ``_build/html`` (``make site`` builds it from clean;
``make test`` does that first). Every page reachable from ``index.html`` through the
navigation is opened once from ``file://`` URLs in Debian's Chromium (``make browser``)
driven by playwright; the tests below then check what was recorded. Each failure
message names every offending page.

Screenshots of each page land in ``_build/screenshots/``.
"""

from __future__ import annotations

import html.parser
import re
import shutil
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "_build" / "html"
SHOTS = ROOT / "_build" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
# See ../shared/TOOLCHAIN.md: without the background-networking flags Chromium itself tries many
# outside connections at start.
CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
LOCAL_SCHEMES = ("file:", "data:", "blob:")
TIMEOUT_MS = 20_000
# TeX that MathJax should have consumed; looked for outside code blocks.
RAW_TEX = re.compile(r"\\\(|\\\)|\\\[|\\\]|\$\$|\\begin\{|\\frac\{")


@dataclass
class PageReport:
    url: str
    name: str  # path relative to the site root, e.g. "book/01_kernels.html"
    console_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    external_requests: list[str] = field(default_factory=list)
    info: dict = field(default_factory=dict)
    animation_problems: list[str] = field(default_factory=list)
    animations_checked: int = 0
    widget_problems: list[str] = field(default_factory=list)
    seconds: float = 0.0


# --------------------------------------------------------------------------- helpers

def page_name(url: str) -> str:
    path = Path(unquote(urlsplit(url).path))
    try:
        return path.relative_to(SITE).as_posix()
    except ValueError:
        return url


def strip_fragment(url: str) -> str:
    return urldefrag(url)[0].split("?", 1)[0]


def inside_site(url: str) -> bool:
    if not url.startswith("file:"):
        return False
    path = Path(unquote(urlsplit(url).path))
    return path == SITE or SITE in path.parents


class _IdCollector(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        for key, value in attrs:
            if key == "id" or (tag == "a" and key == "name"):
                if value is not None:
                    self.ids.add(value)


_ids_cache: dict[Path, set[str]] = {}


def ids_in(path: Path) -> set[str]:
    if path not in _ids_cache:
        parser = _IdCollector()
        parser.feed(path.read_text(encoding="utf-8", errors="replace"))
        _ids_cache[path] = parser.ids
    return _ids_cache[path]


_META_REFRESH = re.compile(
    r"""<meta[^>]*http-equiv=["']?refresh["']?[^>]*content=["'][^"']*url=([^"'>]+)""",
    re.IGNORECASE)


def start_page() -> str:
    """index.html, or the page it redirects to (Jupyter Book writes a redirect there)."""
    index = SITE / "index.html"
    m = _META_REFRESH.search(index.read_text(encoding="utf-8", errors="replace"))
    if not m:
        return index.as_uri()
    target = (SITE / unquote(m.group(1).strip())).resolve()
    assert target.is_file(), f"index.html redirects to a missing page: {m.group(1)}"
    return target.as_uri()


def report_lines(problems: dict[str, list[str]], limit: int = 8) -> str:
    out = []
    for name, items in problems.items():
        out.append(f"{name}: {len(items)}")
        out.extend(f"    {item[:300]}" for item in items[:limit])
        if len(items) > limit:
            out.append(f"    ... and {len(items) - limit} more")
    return "\n".join(out)


# JavaScript run on each page once it has loaded.
WAIT_FOR_PAGE_JS = """
async () => {
  const settle = (p, ms) => Promise.race([p, new Promise(r => setTimeout(r, ms))]);
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    await settle(MathJax.startup.promise, 15000);
  }
  const imgs = Array.from(document.images);
  imgs.forEach(i => { if (i.loading === 'lazy') i.loading = 'eager'; });
  await Promise.all(imgs.map(i => i.complete ? null : settle(
      new Promise(r => { i.addEventListener('load', r); i.addEventListener('error', r); }),
      10000)));
  if (document.fonts) await settle(document.fonts.ready, 5000);
}
"""

COLLECT_JS = r"""
() => {
  const q = (sel, root = document) => Array.from(root.querySelectorAll(sel));
  const article = document.querySelector('article.bd-article') || document.body;
  // Text a reader sees, without code and without MathJax's own output.
  const clone = article.cloneNode(true);
  q('pre, code, script, style, textarea, mjx-container, .highlight', clone)
      .forEach(e => e.remove());
  const mathSources = q('.math', article).length;
  const widgetViews = q('script[type="application/vnd.jupyter.widget-view+json"]').length;
  return {
    url: location.href,
    title: document.title,
    text: clone.textContent,
    mathSources: mathSources,
    mjx: q('mjx-container').length,
    mjxErrors: q('mjx-merror').map(e => e.getAttribute('data-mjx-error') || e.textContent),
    images: q('img').map(i => ({id: i.id, src: i.currentSrc || i.src, attrSrc: i.getAttribute('src'),
                                 alt: i.getAttribute('alt'), complete: i.complete,
                                 width: i.naturalWidth})),
    links: q('a[href]').map(a => ({href: a.href, raw: a.getAttribute('href')})),
    ids: q('[id]').map(e => e.id).concat(q('a[name]').map(e => e.getAttribute('name'))),
    nav: q('nav.bd-docs-nav a.reference.internal').map(a => a.href),
    prev: (document.querySelector('.prev-next-area a.left-prev') || {}).href || null,
    next: (document.querySelector('.prev-next-area a.right-next') || {}).href || null,
    widgetViews: widgetViews,
    animations: q('img[id^="_anim_img"]').map(i => i.id),
    h1: (article.querySelector('h1') || {}).textContent || '',
  };
}
"""

WIDGETS_RENDERED_JS = """
() => document.querySelectorAll(
  '.widget-subarea .jupyter-widgets, .widget-subarea [class*="widget-"], '
  + '.widget-subarea .lm-Widget').length
"""


def _watch(page, rep: PageReport) -> None:
    def on_console(msg):
        if msg.type == "error":
            rep.console_errors.append(f"console.error: {msg.text}")

    def on_request(req):
        if not req.url.startswith(LOCAL_SCHEMES):
            rep.external_requests.append(req.url)

    page.on("console", on_console)
    page.on("pageerror", lambda exc: rep.console_errors.append(f"page error: {exc}"))
    page.on("requestfailed",
            lambda req: rep.failed_requests.append(f"{req.url} ({req.failure})"))
    page.on("request", on_request)


def _check_animations(page, rep: PageReport) -> None:
    players = page.locator('.animation:has(img[id^="_anim_img"])')
    for i in range(players.count()):
        player = players.nth(i)
        img = player.locator('img[id^="_anim_img"]').first
        label = f"animation {i + 1} ({img.get_attribute('id')})"
        button = player.locator('button[title="Next frame"]').first
        if button.count() == 0:
            rep.animation_problems.append(f"{label}: no 'Next frame' button")
            continue
        before = img.get_attribute("src") or ""
        button.click()
        after = before
        deadline = time.monotonic() + 5
        while after == before and time.monotonic() < deadline:
            page.wait_for_timeout(50)
            after = img.get_attribute("src") or ""
        if after == before:
            rep.animation_problems.append(
                f"{label}: clicking 'Next frame' did not change the picture")
        rep.animations_checked += 1


def _visit(context, url: str) -> PageReport:
    rep = PageReport(url=url, name=page_name(url))
    start = time.perf_counter()
    page = context.new_page()
    _watch(page, rep)
    try:
        page.goto(url, wait_until="load", timeout=TIMEOUT_MS)
        rep.url = page.url  # after a redirect (the root index.html)
        rep.name = page_name(strip_fragment(page.url))
        page.evaluate(WAIT_FOR_PAGE_JS)
        info = page.evaluate(COLLECT_JS)
        rep.info = info
        if info["widgetViews"]:
            try:
                page.wait_for_function(WIDGETS_RENDERED_JS, timeout=TIMEOUT_MS)
                # Widget labels may hold math typeset through MathJax.Hub.Queue.
                page.evaluate(WAIT_FOR_PAGE_JS)
            except Exception:
                rep.widget_problems.append(
                    f"{info['widgetViews']} widget output(s) did not render from the "
                    "static widget state (no .widget-* / .jupyter-widgets element)")
            rep.info = info = page.evaluate(COLLECT_JS)
        page.wait_for_load_state("networkidle", timeout=TIMEOUT_MS)
        SHOTS.mkdir(parents=True, exist_ok=True)
        shot = SHOTS / (rep.name.replace("/", "__").removesuffix(".html") + ".png")
        page.screenshot(path=str(shot), full_page=True)
        _check_animations(page, rep)
        page.wait_for_timeout(100)  # let late console messages arrive
    except Exception as exc:  # a page that cannot even be opened fails every test
        rep.console_errors.append(f"could not check the page: {exc}")
    finally:
        page.close()
    rep.seconds = time.perf_counter() - start
    return rep


# --------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="session")
def site() -> Path:
    if not (SITE / "index.html").is_file():
        pytest.fail(f"{SITE}/index.html is missing: build the website first with "
                    "`make site` (a clean build), then run this test again.")
    return SITE


@pytest.fixture(scope="session")
def browser_context(site, tmp_path_factory):
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: run `make browser` (apt-get install chromium). "
                    "Never `playwright install`.")
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")  # fresh --user-data-dir
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile), executable_path=str(CHROMIUM), headless=True,
            args=CHROMIUM_FLAGS, viewport={"width": 1280, "height": 900},
            color_scheme="light")
        # Nothing may leave the machine: record (via the request event) and refuse.
        context.route(lambda url: not url.startswith(LOCAL_SCHEMES),
                      lambda route: route.abort())
        try:
            yield context
        finally:
            context.close()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="session")
def crawl(browser_context) -> dict:
    """Open every page reachable through the navigation from index.html, once."""
    start = time.perf_counter()
    shutil.rmtree(SHOTS, ignore_errors=True)  # no stale screenshots of removed pages
    reports: dict[str, PageReport] = {}
    order: list[str] = []  # toctree order, from the first page's sidebar
    queue = [start_page()]
    seen: set[str] = set()
    while queue:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        rep = _visit(browser_context, url)
        final = strip_fragment(rep.url)
        seen.add(final)
        reports[rep.name] = rep
        info = rep.info
        if not info:
            continue
        nav = [strip_fragment(h) for h in info["nav"]]
        if not order:
            order = list(dict.fromkeys(nav))
        for link in nav + [info["prev"], info["next"]]:
            if link and inside_site(link):
                link = strip_fragment(link)
                if link not in seen and link not in queue:
                    queue.append(link)
    elapsed = time.perf_counter() - start
    print(f"\nbrowser test: {len(reports)} pages in {elapsed:.1f} s")
    for rep in reports.values():
        print(f"  {rep.name}: {rep.seconds:.1f} s, {len(rep.console_errors)} console errors, "
              f"{len(rep.failed_requests)} failed requests, "
              f"{len(rep.external_requests)} external requests, "
              f"{rep.info.get('mjx', 0)} math elements")
    return {"reports": reports, "order": order}


# --------------------------------------------------------------------------- tests

def test_site_is_built():
    # Not through the fixture, so that a missing build is a plain failure here.
    missing = [n for n in ("index.html", "search.html", "searchindex.js")
               if not (SITE / n).is_file()]
    assert not missing, (f"{SITE} lacks {missing}: build the website first with "
                         "`make site` (a clean build), then run this test again.")


def test_every_page_reached(crawl):
    names = set(crawl["reports"])
    order = [page_name(u) for u in crawl["order"]]
    assert order, "no navigation (nav.bd-docs-nav) found on index.html"
    missing = [n for n in order if n not in names]
    assert not missing, f"pages in the navigation that were never opened: {missing}"
    assert len(order) >= 2, f"the navigation lists only {order}"


def test_no_console_errors(crawl):
    bad = {n: r.console_errors for n, r in crawl["reports"].items() if r.console_errors}
    assert not bad, "console errors / page errors:\n" + report_lines(bad)


def test_no_failed_or_external_requests(crawl):
    bad = {}
    for name, rep in crawl["reports"].items():
        items = [f"failed: {x}" for x in rep.failed_requests]
        items += [f"external (not file:/data:/blob:): {x}" for x in rep.external_requests]
        if items:
            bad[name] = items
    assert not bad, "requests that failed or left the site:\n" + report_lines(bad)


def test_math_rendered(crawl):
    bad = {}
    for name, rep in crawl["reports"].items():
        info, items = rep.info, []
        if not info:
            continue
        if info["mathSources"] and info["mjx"] < info["mathSources"]:
            items.append(f"{info['mathSources']} math elements but only {info['mjx']} "
                         "rendered by MathJax (mjx-container)")
        for m in RAW_TEX.finditer(info["text"]):
            snippet = info["text"][max(0, m.start() - 40): m.end() + 40]
            items.append("raw TeX in the page text: ..." + " ".join(snippet.split()) + "...")
        items += [f"MathJax error: {e}" for e in info["mjxErrors"]]
        if items:
            bad[name] = list(dict.fromkeys(items))
    assert not bad, "math not rendered:\n" + report_lines(bad)


def test_images_load_and_have_alt_text(crawl):
    bad = {}
    for name, rep in crawl["reports"].items():
        items = []
        for img in rep.info.get("images", []):
            src = img["attrSrc"] or img["src"] or ""
            short = src if not src.startswith("data:") else src[:40] + "..."
            short = (short or "(no src)") + (f" id={img['id']}" if img["id"] else "")
            if not img["complete"] or img["width"] == 0:
                items.append(f"did not load: {short}")
            alt = (img["alt"] or "").strip()
            basename = unquote(src.rsplit("/", 1)[-1]) if not src.startswith("data:") else ""
            if not alt:
                items.append(f"no alt text: {short}")
            elif basename and alt in (src, basename, unquote(src)):
                # docutils uses the file name as alt text when none was given
                items.append(f"alt text is just the file name: {short}  (give code-cell "
                             "images one with `mystnb: image: alt:` cell metadata)")
        if items:
            bad[name] = items
    assert not bad, "images:\n" + report_lines(bad)


def test_internal_links(crawl):
    bad = {}
    for name, rep in crawl["reports"].items():
        items = []
        page_file = strip_fragment(rep.url)
        for link in rep.info.get("links", []):
            href = link["href"]
            if not href.startswith("file:"):
                continue  # http(s), mailto, javascript: not followed
            target_url, fragment = urldefrag(href)
            target_url = target_url.split("?", 1)[0]
            if not inside_site(target_url):
                items.append(f"link leaves the site: {link['raw']}")
                continue
            path = Path(unquote(urlsplit(target_url).path))
            if path.is_dir():
                path = path / "index.html"
            if not path.is_file():
                items.append(f"missing target: {link['raw']}")
                continue
            fragment = unquote(fragment)
            if fragment and path.suffix == ".html":
                ids = set(rep.info["ids"]) if target_url == page_file else ids_in(path)
                if fragment not in ids:
                    items.append(f"missing anchor #{fragment} in "
                                 f"{page_name(path.as_uri())}: {link['raw']}")
        if items:
            bad[name] = sorted(set(items))
    assert not bad, "broken internal links:\n" + report_lines(bad)


def test_prev_next_follow_the_navigation(crawl):
    order = crawl["order"]
    reports = {strip_fragment(r.url): r for r in crawl["reports"].values()}
    bad = {}
    for i, url in enumerate(order):
        rep = reports.get(url)
        if rep is None or not rep.info:
            continue
        want_prev = order[i - 1] if i > 0 else None
        want_next = order[i + 1] if i + 1 < len(order) else None
        got_prev = strip_fragment(rep.info["prev"]) if rep.info["prev"] else None
        got_next = strip_fragment(rep.info["next"]) if rep.info["next"] else None
        items = []
        if got_prev != want_prev:
            items.append(f"previous link goes to {got_prev and page_name(got_prev)}, "
                         f"expected {want_prev and page_name(want_prev)}")
        if got_next != want_next:
            items.append(f"next link goes to {got_next and page_name(got_next)}, "
                         f"expected {want_next and page_name(want_next)}")
        if items:
            bad[rep.name] = items
    assert not bad, "prev/next links do not follow the navigation order:\n" + report_lines(bad)


def _no_such_content(what: str) -> None:
    msg = f"no page of the site has {what}: sub-check not exercised"
    print(msg)
    warnings.warn(msg)
    pytest.skip(msg)


def test_animations_step(crawl):
    reports = crawl["reports"].values()
    if not any(r.info.get("animations") for r in reports):
        _no_such_content("a to_jshtml() animation")
    bad = {r.name: r.animation_problems for r in reports if r.animation_problems}
    assert not bad, "to_jshtml() animations:\n" + report_lines(bad)
    assert sum(r.animations_checked for r in reports) > 0


def test_widgets_render_from_static_state(crawl):
    reports = crawl["reports"].values()
    if not any(r.info.get("widgetViews") for r in reports):
        _no_such_content("an ipywidgets output")
    bad = {r.name: r.widget_problems for r in reports if r.widget_problems}
    assert not bad, "ipywidgets outputs:\n" + report_lines(bad)


def test_search_finds_a_chapter_word(crawl, browser_context):
    order = crawl["order"]
    reports = {strip_fragment(r.url): r for r in crawl["reports"].values()}
    # A word from the first chapter's title (the page after the front page).
    chapter = reports[order[1] if len(order) > 1 else order[0]]
    words = [w for w in re.findall(r"[A-Za-z]{5,}", chapter.info["h1"])]
    assert words, f"no searchable word in the title of {chapter.name}"
    word = max(words, key=len).lower()
    rep = PageReport(url="", name="search.html")
    page = browser_context.new_page()
    _watch(page, rep)
    try:
        page.goto((SITE / "search.html").as_uri() + f"?q={word}", wait_until="load")
        page.wait_for_selector("#search-results ul.search li a", timeout=TIMEOUT_MS)
        hits = page.eval_on_selector_all("#search-results ul.search li a",
                                         "els => els.map(a => a.href)")
        page.screenshot(path=str(SHOTS / "search.png"), full_page=True)
    finally:
        page.close()
    assert any(strip_fragment(h) == strip_fragment(chapter.url) for h in hits), (
        f"searching {word!r} did not list {chapter.name}; results: "
        f"{[page_name(h) for h in hits]}")
    assert not rep.console_errors, f"search.html: {rep.console_errors}"
    assert not rep.failed_requests and not rep.external_requests, (
        f"search.html: failed {rep.failed_requests}, external {rep.external_requests}")


def test_dark_mode(crawl, browser_context):
    order = crawl["order"]
    url = order[1] if len(order) > 1 else order[0]
    rep = PageReport(url=url, name=page_name(url))
    page = browser_context.new_page()
    _watch(page, rep)
    try:
        page.goto(url, wait_until="load")
        page.evaluate(WAIT_FOR_PAGE_JS)
        themes = []
        button = page.locator(".theme-switch-button").first
        for _ in range(3):  # light -> dark -> auto (cycle order depends on the system)
            button.click()
            themes.append(page.evaluate("document.documentElement.dataset.theme"))
            if themes[-1] == "dark":
                page.wait_for_timeout(200)
                page.screenshot(path=str(SHOTS / ("dark__" + rep.name.replace("/", "__")
                                                  .removesuffix(".html") + ".png")),
                                full_page=True)
        page.evaluate("localStorage.setItem('mode', 'light');"
                      "localStorage.setItem('theme', 'light')")
        page.wait_for_timeout(100)
    finally:
        page.close()
    assert "dark" in themes, f"{rep.name}: the theme switch never gave dark: {themes}"
    assert not rep.console_errors, f"{rep.name} after switching theme: {rep.console_errors}"
    assert not rep.failed_requests and not rep.external_requests, (
        f"{rep.name} after switching theme: failed {rep.failed_requests}, "
        f"external {rep.external_requests}")


def test_screenshots_saved(crawl):
    missing = [r.name for r in crawl["reports"].values()
               if not (SHOTS / (r.name.replace("/", "__").removesuffix(".html") + ".png"))
               .is_file()]
    assert not missing, f"no screenshot in {SHOTS} for {missing}"
