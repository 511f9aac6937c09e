"""Devices are shown by name ("红米 Note 12 · Chrome 120") with the day first seen; the raw id
only in a tooltip, the User-Agent nowhere on the page."""

from __future__ import annotations

import html as html_module
import re

import pytest

from fieldapp.devices import describe
from tests.api.conftest import record
from tests.review.conftest import login_elsewhere

REDMI = ("Mozilla/5.0 (Linux; Android 13; Redmi Note 12 Build/TKQ1.221114.001) AppleWebKit/537.36 "
         "(KHTML, like Gecko) Chrome/120.0.6099.144 Mobile Safari/537.36")
DEVICE = "04584436-f41b-4c2e-9d7a-0c5b6f1e2a3d"


def _visible(page: str) -> str:
    """The text a person reads (tags and their attributes removed)."""
    return html_module.unescape(re.sub(r"<[^>]+>", " ", page))


@pytest.mark.both_backends
def test_batch_and_user_pages_name_the_device(app, client, town) -> None:
    login = client.post("/api/v1/auth/token", json={"username": "worker_a", "password": "pass-word-123",
                                                     "device_id": DEVICE, "device_name": REDMI[:100]})
    token = login.get_json()["token"]
    push = client.post("/api/v1/sync/push", headers={"Authorization": f"Bearer {token}"}, json={
        "batch_id": "batch-redmi", "device_id": DEVICE, "records": [record(town.households_a[0])]})
    assert push.status_code == 200, push.get_json()

    batch = login_elsewhere(app, "supervisor_a").get("/review/batches/batch-redmi").get_data(as_text=True)
    assert f'title="{DEVICE}"' in batch
    text = _visible(batch)
    assert "红米 Note 12" in text and "首次登录" in text
    assert DEVICE[:8] not in text

    user = login_elsewhere(app, "admin").get(f"/admin/users/{town.worker_a.id}").get_data(as_text=True)
    text = _visible(user)
    assert "红米 Note 12" in text and "首次登录" in text
    assert "Mozilla" not in text and "AppleWebKit" not in text and DEVICE[:8] not in text
    assert f'title="{DEVICE}"' in user


def test_a_batch_from_a_device_that_never_logged_in(app, town) -> None:
    from tests import factories

    factories.make_batch(town.worker_a, "from-backup")
    from fieldapp.extensions import db

    db.session.commit()
    page = login_elsewhere(app, "supervisor_a").get("/review/batches/from-backup").get_data(as_text=True)
    assert "未登记设备" in _visible(page) and 'title="factory-device"' in page


@pytest.mark.parametrize(("agent", "name"), [
    (REDMI, "红米 Note 12 · Chrome 120"),
    (REDMI[:100], "红米 Note 12"),  # the PWA sends at most 100 characters
    ("Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile "
     "Safari/537.36", "Android 10 · Chrome 120"),
    ("Mozilla/5.0 (Linux; U; Android 13; zh-cn; 22101316C Build/TP1A.220624.014) AppleWebKit/537.36 (KHTML, "
     "like Gecko) Version/4.0 Chrome/100.0.4896.127 Mobile Safari/537.36 XiaoMi/MiuiBrowser/17.8.20",
     "22101316C · 小米浏览器 17"),
    ("Mozilla/5.0 (Linux; Android 12; HUAWEI P50 Build/HUAWEIABR-AL00; wv) AppleWebKit/537.36 (KHTML, like "
     "Gecko) Version/4.0 Chrome/86.0.4240.99 XWEB/4313 MMWEBSDK/20220805 Mobile Safari/537.36 MMWEBID/1 "
     "MicroMessenger/8.0.27.2220(0x28001B37) WeChat/arm64", "华为 P50 · 微信 8"),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/17.1 Mobile/15E148 Safari/604.1", "iPhone (iOS 17) · Safari 17"),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 "
     "Safari/537.36 Edg/120.0.0.0", "Windows 电脑 · Edge 120"),
    ("Mozilla/5.0 (Linux; Android 13; SM-A5360 Build/TP1A.220624.014) AppleWebKit/537.36 (KHTML, like Gecko) "
     "SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36", "三星 SM-A5360 · 三星浏览器 23"),
    ("张网格的手机", "张网格的手机"), (None, "未命名设备"), ("  ", "未命名设备"), ("Mozilla/5.0 (compatible)", "未知设备"),
])
def test_describe(app, agent, name) -> None:
    with app.test_request_context():
        assert describe(agent) == name
