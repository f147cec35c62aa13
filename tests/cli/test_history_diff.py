"""`history --diff`: the case's git commits, dated in the repository's timezone; --json too."""

from __future__ import annotations

import json
import re

from conftest import Repo

NEW_YORK = {"TZ": "America/New_York"}  # the committer's machine; the repository is Asia/Shanghai


def test_history_diff_json_gives_each_commit(repo: Repo) -> None:
    case_id = repo.open_case(env=NEW_YORK)
    repo.ok("log", case_id, "第一次\n联系", by="zhang.wei", env=NEW_YORK)
    commits = json.loads(repo.ok("history", case_id, "--diff", "--json"))
    assert [c["subject"] for c in commits] == [
        f"{case_id}: note: 第一次 (zhang.wei)",
        f"{case_id}: opened, severity 1, 招商银行, assigned to zhang.wei (li.na)",
    ]
    newest = commits[0]
    assert set(newest) == {"commit", "author", "email", "committer", "committer_email", "date",
                           "subject", "diff"}  # fmt: skip
    assert (newest["author"], newest["email"]) == ("张伟", "zhang.wei@example.com")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00", newest["date"])
    assert newest["diff"].startswith(f"diff --git a/cases/2026/11/26/{case_id}.yaml")
    assert "+  text: |-\n+    第一次\n+    联系\n" in newest["diff"]
    assert "new file mode" in commits[1]["diff"]


def test_history_diff_text_dates_are_in_the_repository_timezone(repo: Repo) -> None:
    case_id = repo.open_case(env=NEW_YORK)
    text = repo.ok("history", case_id, "--diff")
    dates = re.findall(r"^Date: +(.*)$", text, flags=re.M)
    assert len(dates) == 1 and dates[0].endswith(" +0800")
    assert text.startswith("commit ") and f"+id: {case_id}\n" in text
