"""Reports of conversation evaluations: ``results.json`` and one self-contained ``index.html``.

Charts are drawn with matplotlib (Agg) to PNG and embedded as base64 data URIs, and the CSS is
inline, so the page can be mailed or attached to a CI run as one file. ``compare`` puts two runs
side by side: per-scenario verdicts that changed, per-category deltas and latency deltas.
"""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path
from typing import Any

from services.stats import percentile

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem auto;max-width:1100px;
color:#1d2433;padding:0 1rem}
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #dde}
table{border-collapse:collapse;width:100%;margin:.5rem 0}td,th{border:1px solid #dde;
padding:.3rem .5rem;text-align:left;vertical-align:top}th{background:#f3f5fa}
.pass{color:#18794e;font-weight:600}.fail{color:#c4302b;font-weight:600}
.cards{display:flex;gap:1rem;flex-wrap:wrap}.card{background:#f3f5fa;border-radius:8px;
padding:.7rem 1rem;min-width:9rem}.card b{display:block;font-size:1.4rem}
details{border:1px solid #dde;border-radius:6px;margin:.6rem 0;padding:.4rem .8rem}
summary{cursor:pointer;font-weight:600}.reason{color:#c4302b}
.turn{margin:.3rem 0;padding:.3rem .6rem;border-left:3px solid #9ab}.user{border-color:#3a6ea5}
.bot{border-color:#18794e;white-space:pre-wrap}.tool{color:#555;font-family:monospace;
font-size:12px}img{max-width:100%}
"""


def _png(fig: Any) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def category_chart(
    by_category: dict[str, dict[str, int]],
    other: dict[str, Any] | None = None,
    labels: tuple[str, str] = ("A", "B"),
) -> str:
    """Pass rate by category as a horizontal bar chart (two bars per category if ``other``)."""
    plt = _pyplot()
    names = sorted(set(by_category) | set(other or {}))
    rates = [_rate((by_category or {}).get(n)) for n in names]
    fig, ax = plt.subplots(figsize=(7, 0.32 * len(names) + 1.2))
    ys = list(range(len(names)))
    if other is None:
        ax.barh(ys, rates, color="#3a6ea5")
    else:
        ax.barh([y - 0.2 for y in ys], rates, height=0.4, color="#9ab", label=labels[0])
        ax.barh(
            [y + 0.2 for y in ys],
            [_rate(other.get(n)) for n in names],
            height=0.4,
            color="#3a6ea5",
            label=labels[1],
        )
        ax.legend(loc="lower right")
    ax.set_yticks(ys, names)
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("pass rate (%)")
    return _png(fig)


def latency_chart(
    latencies: list[float], other: list[float] | None = None, labels: tuple[str, str] = ("A", "B")
) -> str:
    """The distribution of per-turn latency as a histogram."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 3))
    if latencies:
        ax.hist(
            latencies,
            bins=30,
            color="#3a6ea5",
            alpha=0.7 if other else 1.0,
            label=labels[0] if other else None,
        )
    if other:
        ax.hist(other, bins=30, color="#c4302b", alpha=0.5, label=labels[1])
        ax.legend()
    ax.set_xlabel("latency per turn (ms)")
    ax.set_ylabel("turns")
    return _png(fig)


def _rate(cat: dict[str, int] | None) -> float:
    if not cat or not cat.get("scenarios"):
        return 0.0
    return 100.0 * cat["passed"] / cat["scenarios"]


def _e(value: Any) -> str:
    return html.escape(str(value))


def _transcript(result: dict[str, Any]) -> str:
    rows = []
    for turn in result.get("transcript", []):
        rows.append(f'<div class="turn user">{turn["number"]}. {_e(turn["said"])}</div>')
        for tool in turn.get("tools", []):
            rows.append(
                f'<div class="tool">⚙ {_e(tool["name"])}({_e(json.dumps(tool.get("args", {})))})'
                f" → {_e(tool.get('status'))}</div>"
            )
        for pending in turn.get("pending", []):
            rows.append(
                f'<div class="tool">⏸ awaiting approval: {_e(pending["name"])}'
                f"({_e(json.dumps(pending.get('args', {})))})</div>"
            )
        reply = "\n".join(turn.get("replies", []))
        rows.append(
            f'<div class="turn bot">{_e(reply)} <small>({turn["latency_ms"]:.0f} ms)</small></div>'
        )
    return "\n".join(rows)


def _page(title: str, body: str) -> str:
    return (
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{_e(title)}</title>"
        f"<style>{_CSS}</style></head><body><h1>{_e(title)}</h1>{body}</body></html>"
    )


def _cards(summary: dict[str, Any]) -> str:
    figures = [
        ("scenarios", summary["scenarios"]),
        ("passed", summary["passed"]),
        ("pass rate", f"{100 * summary['pass_rate']:.1f}%"),
        (f"pass^{summary.get('k', 1)}", f"{100 * summary['pass_hat_k']:.1f}%"),
        ("latency p50", f"{summary['latency_ms_p50']:.0f} ms"),
        ("latency p95", f"{summary['latency_ms_p95']:.0f} ms"),
    ]
    return (
        '<div class="cards">'
        + "".join(f'<div class="card">{_e(k)}<b>{_e(v)}</b></div>' for k, v in figures)
        + "</div>"
    )


def write_report(document: dict[str, Any], folder: Path) -> Path:
    """Write ``results.json`` and ``index.html`` for one run into ``folder``; the page's path."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "results.json").write_text(json.dumps(document, indent=2, default=str))
    summary = document["summary"]
    results = document.get("results", [])
    latencies = [ms for r in results for ms in r.get("latencies_ms", [])]
    parts = [f"<p>Model: <code>{_e(document.get('model', '?'))}</code></p>", _cards(summary)]
    parts.append("<h2>Pass rate by category</h2>")
    parts.append(
        f'<img alt="pass rate by category" src="{category_chart(summary["by_category"])}">'
    )
    parts.append(_category_table(summary["by_category"]))
    parts.append("<h2>Latency per turn</h2>")
    parts.append(f'<img alt="latency distribution" src="{latency_chart(latencies)}">')
    parts.append(f"<h2>Failures ({len(summary['failures'])})</h2>")
    by_id: dict[str, list[dict[str, Any]]] = {}
    for r in results:
        by_id.setdefault(r["id"], []).append(r)
    for failure in summary["failures"]:
        runs = by_id.get(failure["id"], [])
        failed = next((r for r in runs if not r["passed"]), None)
        reasons = "".join(f'<li class="reason">{_e(x)}</li>' for x in failure["reasons"])
        where = f" <small>{_e(failed['file'])}</small>" if failed else ""
        parts.append(
            f"<details open><summary>{_e(failure['id'])}{where}</summary><ul>{reasons}</ul>"
            f"{_transcript(failed) if failed else ''}</details>"
        )
    if not summary["failures"]:
        parts.append("<p class=pass>Every scenario passed.</p>")
    parts.append(
        "<h2>All scenarios</h2><table><tr><th>scenario</th><th>category</th>"
        "<th>verdict</th><th>turns</th></tr>"
    )
    for sid, runs in sorted(by_id.items()):
        ok = all(r["passed"] for r in runs)
        verdict = '<span class="pass">pass</span>' if ok else '<span class="fail">fail</span>'
        parts.append(
            f"<tr><td>{_e(sid)}</td><td>{_e(runs[0]['category'])}</td><td>{verdict}</td>"
            f"<td>{len(runs[0].get('transcript', []))}</td></tr>"
        )
    parts.append("</table>")
    page = folder / "index.html"
    page.write_text(_page("Concierge conversation evaluation", "\n".join(parts)), encoding="utf-8")
    return page


def _category_table(by_category: dict[str, dict[str, int]]) -> str:
    rows = "".join(
        f"<tr><td>{_e(c)}</td><td>{v['passed']}/{v['scenarios']}</td><td>{_rate(v):.0f}%</td></tr>"
        for c, v in sorted(by_category.items())
    )
    return f"<table><tr><th>category</th><th>passed</th><th>rate</th></tr>{rows}</table>"


# --- two runs side by side ------------------------------------------------------------------


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    if "summary" not in data:  # a bare --json summary: no per-scenario details
        data = {"summary": data, "results": [], "model": "?"}
    return data


def _verdicts(document: dict[str, Any]) -> dict[str, bool]:
    out: dict[str, bool] = {}
    for r in document.get("results", []):
        key = f"{r.get('suite', '')}/{r['id']}"
        out[key] = out.get(key, True) and bool(r["passed"])
    if not out:  # from the summary alone: failures are known, passes are not
        for f in document["summary"].get("failures", []):
            out[f"{f.get('suite', '')}/{f['id']}"] = False
    return out


def compare(a_path: Path, b_path: Path) -> dict[str, Any]:
    """The differences between run ``a`` (before) and run ``b`` (after)."""
    a, b = _load(a_path), _load(b_path)
    va, vb = _verdicts(a), _verdicts(b)
    changed = []
    for key in sorted(set(va) | set(vb)):
        before, after = va.get(key), vb.get(key)
        if before != after:
            changed.append({"scenario": key, "a": _word(before), "b": _word(after)})
    sa, sb = a["summary"], b["summary"]
    categories = {}
    for cat in sorted(set(sa["by_category"]) | set(sb["by_category"])):
        ra, rb = _rate(sa["by_category"].get(cat)), _rate(sb["by_category"].get(cat))
        categories[cat] = {"a": round(ra, 1), "b": round(rb, 1), "delta": round(rb - ra, 1)}
    return {
        "a": {"file": str(a_path), "model": a.get("model"), "pass_rate": sa["pass_rate"]},
        "b": {"file": str(b_path), "model": b.get("model"), "pass_rate": sb["pass_rate"]},
        "pass_rate_delta": round(sb["pass_rate"] - sa["pass_rate"], 4),
        "latency_ms_p50_delta": round(sb["latency_ms_p50"] - sa["latency_ms_p50"], 1),
        "latency_ms_p95_delta": round(sb["latency_ms_p95"] - sa["latency_ms_p95"], 1),
        "by_category": categories,
        "changed": changed,
        "fixed": sum(1 for c in changed if c["a"] == "fail" and c["b"] == "pass"),
        "broken": sum(1 for c in changed if c["a"] == "pass" and c["b"] == "fail"),
    }


def _word(verdict: bool | None) -> str:
    return "absent" if verdict is None else "pass" if verdict else "fail"


def write_comparison(a_path: Path, b_path: Path, folder: Path) -> tuple[dict[str, Any], Path]:
    """Write ``comparison.json`` and ``index.html`` comparing two ``results.json`` files."""
    diff = compare(a_path, b_path)
    a, b = _load(a_path), _load(b_path)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "comparison.json").write_text(json.dumps(diff, indent=2))
    labels = (f"A: {a.get('model', '?')}", f"B: {b.get('model', '?')}")
    lat_a = [ms for r in a.get("results", []) for ms in r.get("latencies_ms", [])]
    lat_b = [ms for r in b.get("results", []) for ms in r.get("latencies_ms", [])]
    parts = ["<table><tr><th></th><th>A</th><th>B</th><th>delta</th></tr>"]
    for name, key, fmt in (
        ("pass rate", "pass_rate", "{:.1%}"),
        ("pass^k", "pass_hat_k", "{:.1%}"),
        ("latency p50 (ms)", "latency_ms_p50", "{:.0f}"),
        ("latency p95 (ms)", "latency_ms_p95", "{:.0f}"),
    ):
        va, vb = a["summary"][key], b["summary"][key]
        parts.append(
            f"<tr><td>{name}</td><td>{fmt.format(va)}</td><td>{fmt.format(vb)}</td>"
            f"<td>{fmt.format(vb - va)}</td></tr>"
        )
    parts.append("</table>")
    parts.append(
        f"<p>A: <code>{_e(a_path)}</code> ({_e(a.get('model'))}) · B: "
        f"<code>{_e(b_path)}</code> ({_e(b.get('model'))})</p>"
    )
    parts.append("<h2>Pass rate by category</h2>")
    chart = category_chart(a["summary"]["by_category"], b["summary"]["by_category"], labels)
    parts.append(f'<img alt="pass rate by category, A and B" src="{chart}">')
    rows = "".join(
        f"<tr><td>{_e(c)}</td><td>{v['a']:.0f}%</td><td>{v['b']:.0f}%</td>"
        f"<td class={'pass' if v['delta'] >= 0 else 'fail'}>{v['delta']:+.0f}</td></tr>"
        for c, v in diff["by_category"].items()
    )
    parts.append(
        f"<table><tr><th>category</th><th>A</th><th>B</th><th>delta</th></tr>{rows}</table>"
    )
    parts.append("<h2>Latency per turn</h2>")
    parts.append(f'<img alt="latency, A and B" src="{latency_chart(lat_a, lat_b, labels)}">')
    parts.append(f"<p>p50 A {percentile(lat_a, 50):.0f} ms, B {percentile(lat_b, 50):.0f} ms</p>")
    parts.append(f"<h2>Scenarios whose verdict changed ({len(diff['changed'])})</h2>")
    rows = "".join(
        f"<tr><td>{_e(c['scenario'])}</td><td class={c['a']}>{c['a']}</td>"
        f"<td class={c['b']}>{c['b']}</td></tr>"
        for c in diff["changed"]
    )
    parts.append(f"<table><tr><th>scenario</th><th>A</th><th>B</th></tr>{rows}</table>")
    page = folder / "index.html"
    page.write_text(_page("Concierge evaluation: A vs B", "\n".join(parts)), encoding="utf-8")
    return diff, page
