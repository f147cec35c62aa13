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
from casectl.i18n import N_, Nc_, _, pgettext
from casectl.report.numbers import COLUMNS, TABLES

TEMPLATES = os.path.join(os.path.dirname(__file__), "templates")
STATE_COLOURS = (("met", "#2e7d32"), ("met_late", "#f9a825"), ("missed", "#c62828"))
# the columns' headers as people read them, for the catalog (the JSON and CSV keep the keys)
COLUMN = "report column"
_HEADERS_MARKED = (
    Nc_("report column", "actions"),
    Nc_("report column", "age"),
    Nc_("report column", "assignee"),
    Nc_("report column", "at"),
    Nc_("report column", "by"),
    Nc_("report column", "case"),
    Nc_("report column", "cases"),
    Nc_("report column", "closed"),
    Nc_("report column", "contract"),
    Nc_("report column", "count"),
    Nc_("report column", "customer"),
    Nc_("report column", "customer request"),
    Nc_("report column", "delivered at"),
    Nc_("report column", "due"),
    Nc_("report column", "engineer"),
    Nc_("report column", "for"),
    Nc_("report column", "from"),
    Nc_("report column", "inquiry"),
    Nc_("report column", "kind"),
    Nc_("report column", "late"),
    Nc_("report column", "late by"),
    Nc_("report column", "median"),
    Nc_("report column", "met"),
    Nc_("report column", "met late"),
    Nc_("report column", "missed"),
    Nc_("report column", "on"),
    Nc_("report column", "on time share"),
    Nc_("report column", "open at end"),
    Nc_("report column", "opened"),
    Nc_("report column", "opened at"),
    Nc_("report column", "owner"),
    Nc_("report column", "p90"),
    Nc_("report column", "part"),
    Nc_("report column", "qty"),
    Nc_("report column", "reason"),
    Nc_("report column", "reopened"),
    Nc_("report column", "requested at"),
    Nc_("report column", "resolution"),
    Nc_("report column", "rma"),
    Nc_("report column", "severity"),
    Nc_("report column", "since"),
    Nc_("report column", "source"),
    Nc_("report column", "status"),
    Nc_("report column", "sweep late"),
    Nc_("report column", "to"),
    Nc_("report column", "waiting"),
)
# the cells whose values are words of casectl's (not people's text), translated when shown
VALUE = "report value"
WORDS = ("source", "contract", "inquiry", "age", "kind", "on")
_WORDS_MARKED = (
    Nc_("report value", "alarm"),
    Nc_("report value", "email"),
    Nc_("report value", "phone"),
    Nc_("report value", "contract"),
    Nc_("report value", "no contract"),
    Nc_("report value", "price"),
    Nc_("report value", "technical"),
    Nc_("report value", "< 1 day"),
    Nc_("report value", "1-3 days"),
    Nc_("report value", "3-7 days"),
    Nc_("report value", "7-30 days"),
    Nc_("report value", "> 30 days"),
    Nc_("report value", "callback"),
    Nc_("report value", "reply"),
    Nc_("report value", "update"),
    Nc_("report value", "escalate_senior"),
    Nc_("report value", "escalate_manager"),
    Nc_("report value", "customer"),
    Nc_("report value", "parts"),
)
# what the HTML templates say (they call `_`): marked here for the catalog
_TEMPLATES_MARKED = (
    N_("Compliance by severity"), N_("Open cases by age"), N_("no deadline fell due"),
    N_("no deadline"), N_("none"),
)  # fmt: skip


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
            parts.append(_("{title}: none").format(title=_(title)))
            continue
        columns = COLUMNS[name]
        cells = [[shown(c, row[c]) for c in columns] for row in rows]
        parts.append(f"{_(title)}\n{table(cells, [header(c) for c in columns])}")
    return "\n\n".join(parts)


def heading(report: dict[str, Any]) -> str:
    p = report["period"]
    start, end = (datetime.fromisoformat(p[k]) for k in ("from", "to"))
    return _("Case report {label}: {start} to {end} ({timezone}), as of {as_of}").format(
        label=p["label"],
        start=f"{start:%Y-%m-%d %H:%M}",
        end=f"{end:%Y-%m-%d %H:%M}",
        timezone=p["timezone"],
        as_of=f"{datetime.fromisoformat(p['as_of']):%Y-%m-%d %H:%M}",
    )


def header(column: str) -> str:
    return pgettext(COLUMN, column.removesuffix("_s").replace("_", " "))


def shown(column: str, value: Any) -> str:
    """A cell for people: durations as 1h5m, times to the minute, shares in percent."""
    if value is None:
        return "-"
    if isinstance(value, bool):  # customer_request: a marker, shown only where it is so
        return _("yes") if value else ""
    if column.endswith("_s"):
        return span(timedelta(seconds=value))
    if column == "on_time_share":
        return f"{value:.0%}"
    if isinstance(value, str) and len(value) >= 19 and value[10:11] == "T" and value[4] == "-":
        return f"{datetime.fromisoformat(value):%Y-%m-%d %H:%M}"
    if column in WORDS and isinstance(value, str):
        return pgettext(VALUE, value)
    return str(value)


# --- CSV -------------------------------------------------------------------------------


def csv_files(report: dict[str, Any]) -> dict[str, str]:
    """{file name: text} for `--csv DIR`: `period.csv` and one file per table, named
    `section_table.csv`, with the JSON's keys as headers and its values."""
    files = {"period.csv": _csv(list(report["period"]), [report["period"]])}
    for name, _title, rows in tables(report):
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
    env.globals["_"] = _
    page = env.get_template("report.html")
    return page.render(
        report=report,
        heading=heading(report),
        tables=[(name, _(title), COLUMNS[name], rows) for name, title, rows in tables(report)],
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
        {
            "label": pgettext(VALUE, r["age"]),
            "cases": r["cases"],
            "height": round(100 * r["cases"] / tallest, 2),
        }
        for r in rows
    ]


# --- mail ------------------------------------------------------------------------------


def mail_parts(report: dict[str, Any]) -> tuple[str, str, str]:
    """(subject, plain text, HTML) of the report for `--mail`: the same numbers in both,
    the text as the terminal shows it (control characters escaped)."""
    from casectl.terminal import safe

    totals = report["volume"]["totals"][0]
    missed = sum(row["missed"] for row in report["compliance"]["by_kind"])
    subject = _(
        "[casectl] CASE执行情况报告 report {label}: 新开 {opened} opened, 关闭 {closed} closed, "
        "未结 {open} open, 超时 {missed} deadlines missed"
    ).format(
        label=report["period"]["label"],
        opened=totals["opened"],
        closed=totals["closed"],
        open=totals["open_at_end"],
        missed=missed,
    )
    return subject, safe(text(report)), html(report)
