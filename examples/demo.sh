#!/usr/bin/env bash
# The main job on the shipped example data: one hotline call from intake to close,
# in a temporary copy of the example repository at the project's top level (its
# roster.yaml, severity.yaml and example cases). Run it with `make demo`; nothing
# is written into the project.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
repo=$(mktemp -d)/cases
trap 'rm -rf "$(dirname "$repo")"' EXIT
casectl init "$repo" >/dev/null        # the same rules as the top level (a test keeps them so)
cp -R "$top/cases" "$top/contracts.yaml" "$repo/"
git -C "$repo" add cases contracts.yaml && git -C "$repo" -c user.name=demo -c user.email=demo@localhost \
    commit -qm "The example cases"
export CASECTL_REPO=$repo
step() { printf '\n$ %s\n' "$*"; "$@"; }

# The narration in the language casectl chooses from the environment (casectl/i18n.py):
# LC_ALL, else LC_MESSAGES, else LANG names the locale; C or POSIX means English;
# otherwise LANGUAGE's first language we have, else the locale's own.
language() {
    local locale=${LC_ALL:-${LC_MESSAGES:-${LANG:-C}}} wanted
    case ${locale%%.*} in C | POSIX) echo en; return ;; esac
    for wanted in ${LANGUAGE:+${LANGUAGE//:/ }} "$locale"; do
        case ${wanted%%[.@]*} in
            zh | zh_CN | zh_SG | zh_Hans | zh_Hans_CN | zh-CN) echo zh; return ;;
            en | en_* | en-*) echo en; return ;;
        esac
    done
    echo en
}
lang=$(language)
say() { if [ "$lang" = zh ]; then echo "$1"; else echo "$2"; fi; }  # say ZH EN
at() { export CASECTL_NOW="2026-11-26 $1"; }

say "14:05，一家银行打来热线电话：阵列控制器离线。" \
    "A bank calls the hotline at 14:05: an array controller is offline."
at 14:05
id=$(CASECTL_USER=li.na casectl open --customer "招商银行 数据中心" \
      --contact "刘先生 13800000000" --contract HT-2026-031 --severity 1 \
      --description "阵列控制器 CTL1 离线，业务切换到 CTL0" --assign zhang.wei)
say "值班工程师 li.na 开立 CASE $id，指定工程师为 zhang.wei。" \
    "Duty engineer li.na opened case $id and assigned it to zhang.wei."

at 14:20; step casectl sweep
at 14:25; step env CASECTL_USER=zhang.wei casectl log "$id" "已电话联系刘先生，收集阵列日志" --callback
at 14:40; step env CASECTL_USER=wang.jianguo casectl escalate "$id" --to zhou.qiang --reason "控制器硬件故障，需高级工程师确认"
at 15:10; rma=$(CASECTL_USER=zhou.qiang casectl rma "$id" --part DKC-CTL-F --serial SN20261126 --owner zheng.hao)
say "已为控制器记录备件申请 $rma。" "RMA $rma recorded for the controller."
at 15:15; step env CASECTL_USER=zhou.qiang casectl onsite "$id" --request --reason "需到现场更换控制器" --when 17:30
at 15:20; step env CASECTL_USER=wang.jianguo casectl onsite "$id" --approve --engineer zheng.hao --when 17:30
at 17:30; step env CASECTL_USER=zheng.hao casectl onsite "$id" --arrive
at 18:20; step env CASECTL_USER=zheng.hao casectl onsite "$id" --work "更换 CTL1 控制器" --part "$rma"
at 18:30; step env CASECTL_USER=zheng.hao casectl rma "$id" "$rma" --status installed
at 18:35; step env CASECTL_USER=zheng.hao casectl onsite "$id" --depart --summary "CTL1 离线已解决" \
    --solution "更换 CTL1 控制器，双控恢复" --unresolved "无"
at 18:45; step env CASECTL_USER=zhou.qiang casectl close "$id" --resolution "更换 CTL1 控制器，业务恢复双控，客户同意关闭"

echo; say "17:05，一台阵列自己报警：日立 VSP 的 SIM trap 经 snmptrapd 交给 casectl intake：" \
    "At 17:05 an array raises its own alarm: a Hitachi VSP SIM trap, handed on by snmptrapd:"
at 17:05
step casectl intake <<<"localhost
UDP: [192.0.2.10]:161->[192.0.2.1]:162
.1.3.6.1.6.3.1.1.4.1.0 .1.3.6.1.4.1.116.3.11.4.1.1.0.1
.1.3.6.1.4.1.116.5.11.4.2.1 411234
.1.3.6.1.4.1.116.5.11.4.2.3 \"3E1234\"
.1.3.6.1.4.1.116.5.11.4.2.5 \"2026/11/26\"
.1.3.6.1.4.1.116.5.11.4.2.6 \"17:04:31\"
.1.3.6.1.4.1.116.5.11.4.2.7 \"DKC processor blocked (CTL1)\""

echo; say "同时，16:00 的第二个来电一直没有回呼：" "Meanwhile a second call at 16:00 is never called back:"
at 16:00
late=$(CASECTL_USER=li.na casectl open --customer "某省医保中心" --contact "王工 wang@example.cn" \
        --contract HT-2025-112 --severity 2 --description "存储复制链路告警" --source alarm --assign liu.yang)
at 16:46; step casectl sweep

at 18:50
step git -C "$repo" log --oneline
step casectl list --status all
step casectl show "$id"

echo; say "当天给中心经理的报告（HTML 页面在本脚本旁边）：" \
    "The day's report to the manager (its HTML page next to this script):"
step casectl report --date 2026-11-26
html="$(cd "$(dirname "$0")" && pwd)/demo-report.html"
step casectl report --date 2026-11-26 --html "$html"

echo; say "墙上看板：未关闭的 CASE，最紧急的在前（终端中用 casectl board 实时查看）。每次 sweep 都重写 git config casectl.board-html 指定的网页（此处写在本脚本旁边）：" \
    "The wall board: the open cases, most urgent first (live in a terminal: casectl board). Each sweep rewrites the page git config casectl.board-html names (here, next to this script):"
board="$(cd "$(dirname "$0")" && pwd)/board.html"
step git -C "$repo" config casectl.board-html "$board"
step casectl sweep
step casectl board --once
