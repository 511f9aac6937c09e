"""The audit log reads as Chinese sentences, changed fields by their labels; the raw JSON
only behind a 详情 toggle."""

from __future__ import annotations

import html as html_module
import re

import pytest

from fieldapp import audit
from fieldapp.extensions import db
from tests.review.conftest import post_form

pytestmark = pytest.mark.both_backends

RAW_KEYS = ("change_seq", "merged_into_id", "household_merge", "review_status", "roster ", "device_token",
            "household_rev", "None", "True", "False", "{", "}")


def _sentences(page: str) -> str:
    """What an admin reads without opening 详情: the page's text, the <details> left out."""
    body = page[page.index("<tbody>"):page.index("</tbody>")]
    body = re.sub(r"<details.*?</details>", " ", body, flags=re.S)
    body = re.sub(r"<form.*?</form>", " ", body, flags=re.S)
    return html_module.unescape(re.sub(r"<[^>]+>", " ", body))


def test_review_decisions_read_as_sentences(client, auth, scene) -> None:
    t = scene.town
    auth.login("supervisor_a")
    post_form(client, f"/review/visits/{scene.visits_a[1].uuid}", {"action": "return", "comment": "请补充务工收入"})
    post_form(client, f"/review/conflicts/{scene.conflict.id}", {"pick_phone": "incoming"})
    post_form(client, f"/review/duplicates/{scene.candidate.id}", {"survivor": t.households_a[0].id})
    auth.logout()
    auth.login("admin")
    page = client.get("/review/audit").get_data(as_text=True)
    text = _sentences(page)
    assert "supervisor_a 退回了刘伟户的走访记录，意见：请补充务工收入" in text
    assert "supervisor_a 解决了陈秀英户的冲突" in text
    assert "联系电话：137****2222 → 139****1111" in text
    assert "supervisor_a 将王建国户（走访新增）并入王建国户（H" in text
    assert "转入走访记录1条" in text
    for key in RAW_KEYS:
        assert key not in text, key
    # the JSON is still there for an admin, behind 详情, masked
    assert "<summary>详情</summary>" in page and "merged_into_id" in page
    assert scene.new_household.head_id not in page


def test_admin_actions_read_as_sentences(client, auth, scene) -> None:
    t = scene.town
    with_actor = t.admin
    audit.record(db.session, with_actor, "user_update", "user", t.worker_a.id,
                 before={"username": "worker_a", "display_name": "张网格", "role": "worker", "active": True,
                         "villages": ["沼山村"]},
                 after={"username": "worker_a", "display_name": "张网格", "role": "supervisor", "active": False,
                        "villages": ["沼山村"]})
    audit.record(db.session, with_actor, "roster_import", "roster", "roster_small2.csv",
                 details={"rows": 12, "created": 10, "updated": 1, "unchanged": 1, "merged_skipped": 0,
                          "bad_rows": []})
    audit.record(db.session, t.supervisor_a, "export", "report", "follow_up:below_10k",
                 details={"campaign": t.campaign.id, "format": "xlsx", "rows": 7, "full_values": False})
    audit.record(db.session, t.worker_a, "token_issue", "device_token", 1,
                 details={"device_id": "d-1", "device_name": "Mozilla/5.0 (Linux; Android 13; Redmi Note 12 "
                                                             "Build/TKQ1) AppleWebKit/537.36 Chrome/120.0 Mobile"})
    audit.record(db.session, None, "purge", "campaign", t.campaign.id, before={"visits": 40},
                 after={"visits": 0}, details={"received_before": "2024-01-01T00:00:00+08:00"})
    audit.record(db.session, with_actor, "something_new", "gadget", "7")
    db.session.commit()
    auth.login("admin")
    text = _sentences(client.get("/review/audit").get_data(as_text=True))
    assert "admin 修改了用户张网格（worker_a）" in text
    assert "角色：网格员 → 审核员" in text and "启用：是 → 否" in text
    assert "admin 导入了花名册 roster_small2.csv：共12行，新增10户，更新1户，未变化1户" in text
    assert "supervisor_a 导出了跟进名单（人均纯收入低于1万元，Excel，7行）" in text
    assert "张网格 在 红米 Note 12 · Chrome 120 上登录了手机端" in text
    assert "系统 清除了排查活动2023年防止返贫监测帮扶集中排查中2024-01-01之前接收的走访记录40条" in text
    assert "admin something_new：gadget 7" in text  # an action this page does not know yet
