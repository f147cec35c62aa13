"""Make a realistic case repository for the benchmark.

python bench/generate.py DIR --open 10000 --closed 100000 --now 2026-11-26T14:05:00+08:00

Cases are about 2 KB, with Chinese text and 5 to 20 events. Open cases were
called back and escalated, and their last customer contact is recent, so like a
real center only a few deadlines fall due at `--now`; a sweep ran after each
case's last step, as cron would have, so what was late then is on record. The
ids of the open cases go to `ROOT.open`, beside the repository.
"""

from __future__ import annotations

import argparse
import random
from datetime import datetime, timedelta
from pathlib import Path

from casectl import config, initrepo, yamlio
from casectl.ids import random_code
from casectl.model import Case
from casectl.store import relative_path
from casectl.sweep import sweep_case

CUSTOMERS = [
    "招商银行 数据中心",
    "中国移动 省公司",
    "国家电网 信息中心",
    "某省医保中心",
    "上海证券交易所",
]
FAULTS = ["阵列控制器 CTL1 离线，业务切换到 CTL0", "存储复制链路告警，远端阵列不可达",
          "磁盘 HDD-0-12 故障，RAID 组降级", "主机多路径丢失两条路径，IO 延迟升高"]  # fmt: skip
NOTES = ["已电话联系客户，收集阵列日志与 SIM 告警信息，初步判断为硬件故障。",
         "日志分析完成：控制器板卡温度异常，建议更换备件，等待客户确认维护窗口。",
         "与客户确认维护窗口为今晚 22:00，现场工程师已安排，备件在途。",
         "更换完成后观察两小时，业务 IO 正常，多路径全部恢复。"]  # fmt: skip
FIRST_LINE = ["zhang.wei", "liu.yang", "zhao.lei", "sun.li"]


def case(opened: datetime, now: datetime, closed: bool, rng: random.Random) -> tuple[str, dict]:
    case_id = f"{opened:%y%m%d}-{random_code(5)}"
    severity, engineer = rng.randint(1, 4), rng.choice(FIRST_LINE)
    t = opened
    events = [{"id": random_code(8), "at": t, "by": "li.na", "type": "open",
               "customer": rng.choice(CUSTOMERS), "contact": "刘先生 13800000000",
               "contract": f"HT-2026-{rng.randint(1, 999):03d}", "source": "phone",
               "severity": severity, "text": rng.choice(FAULTS)}]  # fmt: skip

    def add(minutes: float, by: str, kind: str, **fields: object) -> None:
        nonlocal t
        t = t + timedelta(minutes=minutes)
        events.append({"id": random_code(8), "at": t, "by": by, "type": kind, **fields})

    add(1, "li.na", "assign", to=engineer)
    add(10, engineer, "callback", text=rng.choice(NOTES))
    add(5, "wang.jianguo", "escalate", to="wang.jianguo", text="经理跟进")
    notes = rng.randint(2, 16)
    # the last step is a customer contact: 99.5% within the update limit, like a
    # center whose cron has been running; the rest fall due around `now`
    ago = rng.uniform(0, 100) if rng.random() < 0.995 else rng.uniform(300, 600)
    span = (now - t).total_seconds() / 60 - ago if not closed else 600
    for i in range(notes):
        kind = "contact" if i == notes - 1 else rng.choice(["note", "contact"])
        add(max(span, notes) / notes, engineer, kind, text=rng.choice(NOTES))
    if closed:
        add(30, engineer, "close", text="更换备件后业务恢复，客户同意关闭。")
    return case_id, {"id": case_id, "events": events}


def generate(root: Path, n_open: int, n_closed: int, now: datetime, seed: int = 1) -> None:
    rng = random.Random(seed)
    initrepo.init(str(root))
    cfg = config.load(str(root))
    open_ids = []
    for i in range(n_open + n_closed):
        closed = i >= n_open
        opened = now - timedelta(days=rng.uniform(1, 900 if closed else 30))
        case_id, document = case(opened, now, closed, rng)
        if not closed:
            swept = Case(case_id, document["events"])
            sweep_case(swept, cfg, swept.events[-1]["at"])
            document = swept.to_document()
            open_ids.append(case_id)
        path = root / relative_path(case_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(yamlio.dump(document))
    Path(f"{root}.open").write_text("\n".join(open_ids) + "\n", encoding="utf-8")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--open", type=int, default=10_000)
    parser.add_argument("--closed", type=int, default=100_000)
    parser.add_argument("--now", default="2026-11-26T14:05:00+08:00")
    args = parser.parse_args()
    generate(args.root, args.open, args.closed, datetime.fromisoformat(args.now))
