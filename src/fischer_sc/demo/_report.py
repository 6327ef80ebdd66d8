"""The HTML report: one self-contained page that embeds the figures by relative path."""

from __future__ import annotations

import html
import re
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from ._section import Section

REPORT_NAME = "report.html"

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 72rem; margin: 2rem auto;
       padding: 0 1rem; color: #222; line-height: 1.45; }
h1 { margin-bottom: .2rem; } .meta { color: #666; margin-top: 0; }
h2 { border-bottom: 1px solid #ddd; padding-bottom: .2rem; margin-top: 2.5rem; }
code { background: #f3f3f3; padding: 0 .2em; border-radius: 3px; }
figure { margin: 1rem 0; } figure img { max-width: 100%; height: auto; }
figcaption, caption { color: #555; font-size: .9rem; text-align: left; padding: .3rem 0; }
table { border-collapse: collapse; margin: 1rem 0; font-size: .85rem; }
th, td { border: 1px solid #ddd; padding: .25rem .5rem; text-align: left; vertical-align: top; }
th { background: #f6f6f6; } tbody tr:nth-child(even) { background: #fafafa; }
nav ol { padding-left: 1.5rem; }
"""


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "section"


def _paragraphs(text: str) -> str:
    parts = [p.strip() for p in text.split("\n\n") if p.strip()]
    out = []
    for p in parts:
        escaped = html.escape(p)
        out.append("<p>" + re.sub(r"`([^`]+)`", r"<code>\1</code>", escaped) + "</p>")
    return "\n".join(out)


def _versions() -> str:
    found = []
    for dist in ("fischer_sc", "scanpy", "anndata", "numpy"):
        try:
            found.append(f"{dist} {version(dist)}")
        except PackageNotFoundError:
            continue
    return ", ".join(found)


def render_report(sections: Sequence[Section], *, quick: bool = False) -> str:
    """The report as an HTML string.

    Parameters
    ----------
    sections
        The sections, in order.
    quick
        Whether the demo ran with ``quick=True`` (stated in the header).

    Returns
    -------
    A complete HTML document; figures are ``<img>`` elements with paths relative to the report.
    """
    slugs: list[str] = []
    for s in sections:
        slug = base = _slug(s.title)
        i = 2
        while slug in slugs:
            slug, i = f"{base}-{i}", i + 1
        slugs.append(slug)

    body = []
    for slug, s in zip(slugs, sections, strict=True):
        parts = [f'<section id="{slug}">', f"<h2>{html.escape(s.title)}</h2>", _paragraphs(s.text)]
        for fig in s.figures:
            src = html.escape(fig, quote=True)
            parts.append(f'<figure><img src="{src}" alt="{src}"><figcaption>{src}</figcaption></figure>')
        for caption, df in s.tables:
            table = df.to_html(index=False, border=0, escape=True, na_rep="")
            end = table.index(">") + 1  # after the opening <table ...> tag
            parts.append(f"{table[:end]}\n<caption>{html.escape(caption)}</caption>{table[end:]}")
        parts.append("</section>")
        body.append("\n".join(parts))

    toc = "\n".join(
        f'<li><a href="#{slug}">{html.escape(s.title)}</a></li>' for slug, s in zip(slugs, sections, strict=True)
    )
    mode = "quick run (<code>--quick</code>)" if quick else "full run"
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>fischer_sc demo</title>
<style>{_CSS}</style>
</head>
<body>
<h1>fischer_sc demo</h1>
<p class="meta">{mode}; {html.escape(_versions())}; results in <a href="demo.h5ad">demo.h5ad</a>
(<code>anndata.read_h5ad("demo.h5ad")</code>).</p>
<nav><ol>
{toc}
</ol></nav>
{chr(10).join(body)}
</body>
</html>
"""


def write_report(sections: Sequence[Section], out_dir: Path, *, quick: bool = False) -> Path:
    """Write ``report.html`` into ``out_dir``.

    Parameters
    ----------
    sections
        The sections, in order; their figures must exist in ``out_dir``.
    out_dir
        Output directory of the demo.
    quick
        Whether the demo ran with ``quick=True``.

    Returns
    -------
    The path of the report.
    """
    missing = [f for s in sections for f in s.figures if not (out_dir / f).is_file()]
    if missing:
        msg = f"Figures listed by the demo sections were not written to {out_dir}: {', '.join(missing)}."
        raise FileNotFoundError(msg)
    path = out_dir / REPORT_NAME
    path.write_text(render_report(sections, quick=quick), encoding="utf-8")
    return path
