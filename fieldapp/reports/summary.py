"""The town summary paragraph, worded the way the town's work summary words it.

The reference (保安镇 2023 工作总结) reads: "截至目前，全镇共完成排查13740户，其中
排查一般农户13046户，脱贫户659户，监测对象45户（包括已消除风险的脱贫不稳定户）。
按照……新纳入监测户4户10人……消除风险监测户3户8人。" The first sentence is
reproduced exactly from the counts; the rest follows the same pattern with the
screening's own results (suggested, not yet decided, so "建议").
"""

from __future__ import annotations

from collections.abc import Sequence

from fieldapp.reports.queries import Progress, ProgressRow

COUNTY = "全县"


def area_name(village_names: Sequence[str] | None) -> str:
    """"全镇" for the whole town (None); the villages' names for a part of it."""
    if village_names is None:
        return "全镇"
    if not village_names:
        return "所辖村"
    return "、".join(village_names)


def town_summary(progress: Progress, village_names: Sequence[str] | None = None) -> str:
    """The summary paragraph for ``progress``.

    :param village_names: None for every village ("全镇"), else the names in scope
        (``services.village_names`` gives None for a scope that covers every village).
    """
    return paragraph(progress.totals, area_name(village_names))


def county_summary(progress: Progress, town_names: Sequence[str] | None = None) -> str:
    """Central's paragraph over the towns in scope: "全县" for every town (None), else the
    towns' names (a town's supervisor at central: that town)."""
    area = COUNTY if town_names is None else "、".join(town_names) or "所辖乡镇"
    return paragraph(progress.totals, area)


def paragraph(t: ProgressRow, area: str) -> str:
    """The paragraph for the counts ``t`` (a town's, a town's subtotal at central, the
    county's) over ``area`` (全镇, 全县, a town's or villages' names): one wording for all."""
    parts = [
        f"截至目前，{area}共完成排查{t.visited}户，其中排查一般农户{t.general}户，"
        f"脱贫户{t.lifted}户，监测对象{t.monitored}户"
    ]
    notes = []
    if t.monitored_lifted:
        notes.append(f"其中脱贫户{t.monitored_lifted}户")
    if t.monitored_eliminated:
        notes.append(f"含已消除风险{t.monitored_eliminated}户")
    if notes:
        parts[0] += f"（{'，'.join(notes)}）"
    parts[0] += "。"
    if t.households:
        parts.append(f"应排查{t.households}户，完成率{_percent(t.completion)}"
                     + (f"，其中新发现农户{t.new_households}户" if t.new_households else "") + "。")
    parts.append(
        f"按照“应纳尽纳”的原则和监测户识别标准，经排查建议新纳入监测户"
        f"{t.suggest_monitor}户{t.suggest_monitor_people}人，"
        f"建议消除风险监测户{t.suggest_eliminate}户{t.suggest_eliminate_people}人。"
    )
    concerns = [
        (t.below_monitoring_line, "收入低于监测范围"),
        (t.guarantee_gap, "“三保障”及饮水安全存在问题"),
        (t.below_10k, "人均纯收入低于1万元（有劳动力）"),
    ]
    listed = [f"{label}{count}户" for count, label in concerns if count]
    if listed:
        parts.append(f"排查发现{'，'.join(listed)}，需逐户跟进。")
    return "".join(parts)


def _percent(value: float) -> str:
    text = f"{value:.1f}".rstrip("0").rstrip(".")
    return f"{text}%"
