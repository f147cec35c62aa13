"""The report's one structure rendered: a terminal summary, JSON, CSV files, an HTML page.

Untrusted text (customers, reasons) passes one escaping point per form: `terminal.safe`
for the terminal, jinja2's autoescaping for HTML, a leading `'` for CSV cells a
spreadsheet would read as a formula; JSON is exact.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

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
    Nc_("report column", "owed by"),
    Nc_("report column", "in"),
    Nc_("report column", "state"),
    Nc_("report column", "case state"),
    Nc_("report column", "closed at"),
    Nc_("report column", "text"),
    Nc_("report column", "step"),
    Nc_("report column", "open severity 1"),
    Nc_("report column", "open severity 2"),
    Nc_("report column", "due next 24h"),
    Nc_("report column", "reassignments"),
    Nc_("report column", "day"),
)
# deadline kinds as people say them, in every language (the JSON and CSV keep the keys)
KIND = "deadline kind"
KINDS = {
    "callback": Nc_("deadline kind", "callback"),
    "reply": Nc_("deadline kind", "first reply"),
    "update": Nc_("deadline kind", "customer update"),
    "escalation": Nc_("deadline kind", "escalation"),
    "escalate_senior": Nc_("deadline kind", "escalation to a senior engineer"),
    "escalate_manager": Nc_("deadline kind", "escalation to the manager"),
    "customer_wait": Nc_("deadline kind", "customer's wait for the first callback"),
}
PEOPLE = frozenset({"engineer", "assignee", "by", "from", "to", "owner", "owed_by"})
# rows whose every count is zero are left out of the table and the page (the JSON keeps them)
COUNTED = frozenset({"opened", "closed", "reopened", "open_at_end", "met", "met_late", "missed",
                     "cases", "count"})  # fmt: skip
# the cells whose values are words of casectl's (not people's text), translated when shown
VALUE = "report value"
WORDS = ("source", "contract", "inquiry", "age", "on", "state", "case_state", "step", "status")
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
    Nc_("report value", "customer"),
    Nc_("report value", "parts"),
    Nc_("report value", "missed"),
    Nc_("report value", "met_late"),
    Nc_("report value", "open"),
    Nc_("report value", "closed"),
    Nc_("report value", "waiting on customer"),
    Nc_("report value", "waiting on parts"),
    Nc_("report value", "request"),
    Nc_("report value", "approve"),
    Nc_("report value", "deny"),
    Nc_("report value", "requested"),
    Nc_("report value", "shipped"),
    Nc_("report value", "delivered"),
    Nc_("report value", "installed"),
    Nc_("report value", "returned"),
    Nc_("report value", "cancelled"),
    Nc_("report value", "cancel"),
    Nc_("report value", "arrive"),
    Nc_("report value", "depart"),
)
# what the HTML templates say (they call `_`): marked here for the catalog
_TEMPLATES_MARKED = (
    N_("Compliance by severity"), N_("Open cases by age"), N_("no deadline fell due"),
    N_("no deadline"), N_("none"), N_("Compliance by deadline kind and severity"),
    N_("Opened, closed and open at the end of each day"), N_("on time"),
)  # fmt: skip


def tables(report: dict[str, Any]) -> list[tuple[str, str, list[dict[str, Any]]]]:
    """(name, title, rows) of every table, in order; name is `section.table`."""
    return [(f"{s}.{t}", title, report[s][t]) for s, t, title in TABLES]


def to_json(report: dict[str, Any]) -> str:
    """`json.dumps(report, ensure_ascii=False, indent=2)` and a newline, byte for byte; each
    table (a list of flat rows) encoded at once by json's C encoder, then indented."""
    return "".join(json_parts(report))


def json_parts(report: dict[str, Any]) -> Iterator[str]:
    """`to_json` in pieces, a table at most each, made as they are taken: printed one by
    one, the document is never held whole."""
    yield from _json(report, 0)
    yield "\n"


def _json(value: Any, level: int) -> Iterator[str]:
    import json

    if isinstance(value, dict) and value and all(isinstance(k, str) for k in value):
        inner = "\n" + "  " * (level + 1)
        for n, (key, item) in enumerate(value.items()):
            yield ("{" if not n else ",") + inner + json.dumps(key, ensure_ascii=False) + ": "
            yield from _json(item, level + 1)
        yield "\n" + "  " * level + "}"
    elif isinstance(value, list) and value and _flat(value):
        yield _table(value, level)
    elif isinstance(value, list) and value:
        inner = "\n" + "  " * (level + 1)
        for n, item in enumerate(value):
            yield ("[" if not n else ",") + inner
            yield from _json(item, level + 1)
        yield "\n" + "  " * level + "]"
    else:
        text = json.dumps(value, ensure_ascii=False, indent=2)
        yield text.replace("\n", "\n" + "  " * level)


SCALARS = frozenset({str, int, float, bool, type(None)})


def _flat(rows: list[Any]) -> bool:
    """Rows of a table: dicts, none empty, of plain values."""
    if not all(type(row) is dict and row for row in rows):
        return False
    kinds: set[type] = set()
    for row in rows:
        kinds.update(map(type, row.values()))
    return kinds <= SCALARS


def _table(rows: list[dict[str, Any]], level: int) -> str:
    """A list of flat rows as indent=2 gives it: the C encoder separates the items by a
    NUL (never found in its output otherwise: control characters are escaped)."""
    import json

    compact = json.dumps(rows, ensure_ascii=False, separators=("\x00", ": "))
    row, field = "\n" + "  " * (level + 1), "\n" + "  " * (level + 2)
    body = compact[2:-2].replace("}\x00{", "\x01").replace("\x00", "," + field)
    body = body.replace("\x01", row + "}," + row + "{" + field)
    return "[" + row + "{" + field + body + row + "}" + "\n" + "  " * level + "]"


# --- the terminal ------------------------------------------------------------------------


def text(report: dict[str, Any]) -> str:
    """Every table laid out in columns (wide characters aligned); empty ones say `none`."""
    from casectl.render import table  # tabulate, with each cell escaped by terminal.safe

    parts, people = [heading(report)], report.get("people", {})
    for name, title, rows in tables(report):
        rows = worth_showing(rows, name)
        if not rows:
            if name != "trend.by_day":  # a one-day report has no days to show
                parts.append(_("{title}: none").format(title=_(title)))
            continue
        columns = COLUMNS[name]
        cells = [[shown(c, row[c], people) for c in columns] for row in rows]
        parts.append(f"{_(title)}\n{table(cells, [header(c) for c in columns])}")
        if said := cut(report, name):
            parts[-1] += "\n" + said
    return "\n\n".join(parts)


def cut(report: dict[str, Any], name: str) -> str:
    """The line under a list the report cut, saying how many rows it has ("" for a list
    shown whole)."""
    total = report.get("cut", {}).get(name)
    if total is None:
        return ""
    section, _dot, table = name.partition(".")
    return _("({shown} of {total} rows listed; --rows 0 lists all)").format(
        shown=len(report[section][table]), total=total
    )


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


def worth_showing(rows: list[dict[str, Any]], name: str = "") -> list[dict[str, Any]]:
    """The rows with a count that is not zero (rows without counts, and days: all of them)."""
    if name == "trend.by_day":
        return rows
    return [r for r in rows if not (COUNTED & r.keys()) or any(r[k] for k in COUNTED & r.keys())]


def shown(column: str, value: Any, people: dict[str, str] | None = None) -> str:
    """A cell for people: durations as 1h5m, times to the minute, shares in percent, names
    for roster ids, deadline kinds in words."""
    if value is None:
        return "-"
    if column in PEOPLE and people and isinstance(value, str):
        return people.get(value, value)
    if column == "kind" and value in KINDS:
        return pgettext(KIND, KINDS[value])
    if isinstance(value, bool):  # customer_request: a marker, shown only where it is so
        return _("yes") if value else ""
    if column.endswith("_s"):
        from casectl.said import spoken

        return spoken(timedelta(seconds=value))
    if column == "on_time_share":
        return f"{value:.0%}"
    if isinstance(value, str) and len(value) >= 19 and value[10:11] == "T" and value[4] == "-":
        return f"{datetime.fromisoformat(value):%Y-%m-%d %H:%M}"
    if column in WORDS and isinstance(value, str):
        return pgettext(VALUE, value)
    return str(value)


# --- CSV -------------------------------------------------------------------------------


def csv_files(report: dict[str, Any]) -> dict[str, str]:
    """{file name: text} for `--csv DIR`: `period.csv`, `cut.csv` (the lists cut to
    `--rows`, with their lengths) and one file per table, named `section_table.csv`, with
    the JSON's keys as headers and its values."""
    files = {"period.csv": _csv(list(report["period"]), [report["period"]])}
    lengths = [{"table": k, "rows": n} for k, n in report.get("cut", {}).items()]
    files["cut.csv"] = _csv(["table", "rows"], lengths)  # the lists cut to --rows, if any
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
    from casectl.i18n import current

    people = report.get("people", {})
    env.filters["shown"] = lambda value, column: shown(column, value, people)
    env.filters["header"] = header
    env.globals["_"] = _
    env.globals["cut"] = lambda name: cut(report, name)
    page = env.get_template("report.html")
    shown_tables = [(name, _(title), COLUMNS[name], worth_showing(rows, name))
                    for name, title, rows in tables(report)
                    if not name.startswith("headline.")  # the page shows them as tiles
                    and (name != "trend.by_day" or rows)]  # fmt: skip
    return page.render(
        report=report,
        lang="zh-CN" if current().startswith("zh") else "en",
        heading=heading(report),
        tables=shown_tables,
        compliance_chart=compliance_chart(report),
        age_chart=age_chart(report),
        trend_chart=trend_chart(report),
        colours=STATE_COLOURS,
    )


def compliance_chart(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Per deadline kind and severity, one bar of deadlines met, met late and missed as
    shares of 100, with its counts and on-time share to print beside it."""
    bars = []
    for row in report["compliance"]["by_severity"]:
        total = sum(row[state] for state, _colour in STATE_COLOURS)
        if not total:
            continue
        x, parts = 0.0, []
        for state, colour in STATE_COLOURS:
            width = 100 * row[state] / total
            parts.append({"x": round(x, 2), "width": round(width, 2), "colour": colour,
                          "state": state, "count": row[state]})  # fmt: skip
            x += width
        counts = " / ".join(str(row[state]) for state, _colour in STATE_COLOURS)
        bars.append({
            "label": _("S{severity} {kind}").format(
                severity=row["severity"], kind=pgettext(KIND, KINDS[row["kind"]])),
            "total": total, "parts": parts,
            "numbers": _("{counts} ({share} on time)").format(
                counts=counts, share=f"{row['on_time_share']:.0%}"),
        })  # fmt: skip
    return bars


def trend_chart(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Per day of a week or month: opened and closed as bars, open at the day's end."""
    rows = report["trend"]["by_day"]
    counts = [{"label": r["day"][5:], "opened": r["opened"] or 0, "closed": r["closed"] or 0,
               "open": r["open_at_end"] or 0} for r in rows]  # fmt: skip
    tallest = max((max(c["opened"], c["closed"], c["open"]) for c in counts), default=0) or 1
    return [c | {"scale": 100 / tallest} for c in counts]


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
