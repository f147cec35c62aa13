"""The report's one structure rendered: a terminal summary, JSON, CSV files, an HTML page.

Untrusted text (customers, reasons) passes one escaping point per form: `terminal.safe`
for the terminal, jinja2's autoescaping for HTML, a leading `'` for CSV cells a
spreadsheet would read as a formula; JSON is exact.
"""

from __future__ import annotations

import csv
import io
import os
from datetime import datetime, timedelta
from typing import Any

from casectl.deadlines import span
from casectl.report.numbers import COLUMNS, TABLES

TEMPLATES = os.path.join(os.path.dirname(__file__), "templates")
STATE_COLOURS = (("met", "#2e7d32"), ("met_late", "#f9a825"), ("missed", "#c62828"))


def tables(report: dict[str, Any]) -> list[tuple[str, str, list[dict[str, Any]]]]:
    """(name, title, rows) of every table, in order; name is `section.table`."""
    return [(f"{s}.{t}", title, report[s][t]) for s, t, title in TABLES]


def to_json(report: dict[str, Any]) -> str:
    import json

    return json.dumps(report, ensure_ascii=False, indent=2) + "\n"


# --- the terminal ------------------------------------------------------------------------


def text(report: dict[str, Any]) -> str:
    """Every table laid out in columns (wide characters aligned); empty ones say `none`."""
    from casectl.render import table  # tabulate, with each cell escaped by terminal.safe

    parts = [heading(report)]
    for name, title, rows in tables(report):
        if not rows:
            parts.append(f"{title}: none")
            continue
        columns = COLUMNS[name]
        cells = [[shown(c, row[c]) for c in columns] for row in rows]
        parts.append(f"{title}\n{table(cells, [header(c) for c in columns])}")
    return "\n\n".join(parts)


def heading(report: dict[str, Any]) -> str:
    p = report["period"]
    start, end = (datetime.fromisoformat(p[k]) for k in ("from", "to"))
    return (
        f"Case report {p['label']}: {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} "
        f"({p['timezone']}), as of {datetime.fromisoformat(p['as_of']):%Y-%m-%d %H:%M}"
    )


def header(column: str) -> str:
    return column.removesuffix("_s").replace("_", " ")


def shown(column: str, value: Any) -> str:
    """A cell for people: durations as 1h5m, times to the minute, shares in percent."""
    if value is None:
        return "-"
    if isinstance(value, bool):  # customer_request: a marker, shown only where it is so
        return "yes" if value else ""
    if column.endswith("_s"):
        return span(timedelta(seconds=value))
    if column == "on_time_share":
        return f"{value:.0%}"
    if isinstance(value, str) and len(value) >= 19 and value[10:11] == "T" and value[4] == "-":
        return f"{datetime.fromisoformat(value):%Y-%m-%d %H:%M}"
    return str(value)


# --- CSV -------------------------------------------------------------------------------


def csv_files(report: dict[str, Any]) -> dict[str, str]:
    """{file name: text} for `--csv DIR`: `period.csv` and one file per table, named
    `section_table.csv`, with the JSON's keys as headers and its values."""
    files = {"period.csv": _csv(list(report["period"]), [report["period"]])}
    for name, _, rows in tables(report):
        files[f"{name.replace('.', '_')}.csv"] = _csv(list(COLUMNS[name]), rows)
    return files


def _csv(columns: list[str], rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row[c]) for c in columns])
    return out.getvalue()


def _cell(value: Any) -> Any:
    """A spreadsheet runs text starting with = + - @ as a formula: such text is quoted."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"  # as in the JSON
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


# --- HTML ------------------------------------------------------------------------------


def html(report: dict[str, Any]) -> str:
    """One self-contained page: no script, no external address, charts as inline SVG."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,  # customer names and reasons are untrusted text: never markup
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["shown"] = lambda value, column: shown(column, value)
    env.filters["header"] = header
    page = env.get_template("report.html")
    return page.render(
        report=report,
        heading=heading(report),
        tables=[(name, title, COLUMNS[name], rows) for name, title, rows in tables(report)],
        compliance_chart=compliance_chart(report),
        age_chart=age_chart(report),
        colours=STATE_COLOURS,
    )


def compliance_chart(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Per severity, one bar of deadlines met, met late and missed, as shares of 100."""
    totals: dict[int, dict[str, int]] = {}
    for row in report["compliance"]["by_severity"]:
        counts = totals.setdefault(row["severity"], {"met": 0, "met_late": 0, "missed": 0})
        for state in counts:
            counts[state] += row[state]
    bars = []
    for severity, counts in sorted(totals.items()):
        total, x, parts = sum(counts.values()), 0.0, []
        for state, colour in STATE_COLOURS:
            width = 100 * counts[state] / total if total else 0
            parts.append({"x": round(x, 2), "width": round(width, 2), "colour": colour,
                          "state": state, "count": counts[state]})  # fmt: skip
            x += width
        bars.append({"label": f"S{severity}", "total": total, "parts": parts})
    return bars


def age_chart(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Open cases per age bucket, each bar's height a share of the tallest."""
    rows = report["volume"]["open_by_age"]
    tallest = max((r["cases"] for r in rows), default=0) or 1
    return [
        {"label": r["age"], "cases": r["cases"], "height": round(100 * r["cases"] / tallest, 2)}
        for r in rows
    ]


# --- mail ------------------------------------------------------------------------------


def mail_parts(report: dict[str, Any]) -> tuple[str, str, str]:
    """(subject, plain text, HTML) of the report for `--mail`: the same numbers in both,
    the text as the terminal shows it (control characters escaped)."""
    from casectl.terminal import safe

    totals = report["volume"]["totals"][0]
    missed = sum(row["missed"] for row in report["compliance"]["by_kind"])
    subject = (
        f"[casectl] CASE执行情况报告 report {report['period']['label']}: "
        f"新开 {totals['opened']} opened, 关闭 {totals['closed']} closed, "
        f"未结 {totals['open_at_end']} open, 超时 {missed} deadlines missed"
    )
    return subject, safe(text(report)), html(report)
