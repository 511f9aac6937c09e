"""Devices as people name them: "红米 Note 12 · Chrome 120", not a UUID or a User-Agent.

A phone's token carries the ``device_name`` it sent at login; the PWA sends its
User-Agent there (cut to 100 characters). :func:`describe` turns that into a
short name (model or system, then browser); :func:`device_labels` gives each
(user, device) its name and the day it was first seen, for the pages that list
devices. The raw id stays available for a tooltip.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext
from sqlalchemy.orm import Session

from fieldapp.models import DeviceToken


def _(text: str, **variables: Any) -> str:
    """gettext, typed."""
    return str(gettext(text, **variables))


def _l(text: str) -> str:
    """Marks a word for translation extraction; :func:`describe` translates it when it is used."""
    return text


# (pattern, label): the first that matches names the browser; group 1 is its major version.
_BROWSERS: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(p), label) for p, label in (
    (r"MicroMessenger/(\d+)", _l("微信")),
    (r"EdgA?/(\d+)", "Edge"),
    (r"MiuiBrowser/(\d+)", _l("小米浏览器")),
    (r"HuaweiBrowser/(\d+)", _l("华为浏览器")),
    (r"HeyTapBrowser/(\d+)", _l("欢太浏览器")),
    (r"VivoBrowser/(\d+)", _l("vivo浏览器")),
    (r"UCBrowser/(\d+)", _l("UC浏览器")),
    (r"MQQBrowser/(\d+)", _l("QQ浏览器")),
    (r"Quark/(\d+)", _l("夸克")),
    (r"SamsungBrowser/(\d+)", _l("三星浏览器")),
    (r"(?:Firefox|FxiOS)/(\d+)", "Firefox"),
    (r"(?:Chrome|CriOS)/(\d+)", "Chrome"),
    (r"Version/(\d+)[.\d]* (?:Mobile/\S+ )?Safari/", "Safari"),
))
# A model's brand prefix and its name as people say it; the rest of the model follows.
_BRANDS: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(p, re.IGNORECASE), label) for p, label in (
    (r"^redmi\s*", _l("红米")), (r"^(?:xiaomi|mi)\s+", _l("小米")), (r"^huawei[\s_-]*", _l("华为")),
    (r"^honor[\s_-]*", _l("荣耀")), (r"^(?:samsung[\s_-]*)?(?=sm-)", _l("三星")), (r"^oneplus\s*", _l("一加")),
    (r"^meizu\s*", _l("魅族")),
))
# "(Linux; Android 13; Redmi Note 12 Build/…)", "(Linux; U; Android 13; zh-cn; 22101316C Build/…)"
_ANDROID = re.compile(r"Android (\d+(?:\.\d+)?)((?:;[^;)]*)*)")
_IOS = re.compile(r"\((iPhone|iPad)[^)]*? OS (\d+)")
_DESKTOPS = (("Windows", _l("Windows 电脑")), ("Macintosh", _l("Mac 电脑")), ("Linux", _l("Linux 电脑")))
# Android locales and the placeholders of a reduced User-Agent are not models.
_NOT_A_MODEL = re.compile(r"^(?:K|U|wv|[a-z]{2}[-_][a-zA-Z]{2,4}|)$")


def _model(model: str) -> str:
    for pattern, brand in _BRANDS:
        if pattern.search(model):
            return f"{_(brand)} {pattern.sub('', model, count=1)}".strip()
    return model


def _system(agent: str) -> str | None:
    android = _ANDROID.search(agent)
    if android:
        models = [part.split(" Build/")[0].strip() for part in android.group(2).split(";")]
        models = [m for m in models if not _NOT_A_MODEL.match(m)]
        return _model(models[-1]) if models else f"Android {android.group(1)}"
    ios = _IOS.search(agent)
    if ios:
        return f"{ios.group(1)} (iOS {ios.group(2)})"
    for token, label in _DESKTOPS:
        if token in agent:
            return _(label)
    return None


def _browser(agent: str) -> str | None:
    for pattern, label in _BROWSERS:
        found = pattern.search(agent)
        if found:
            return f"{_(label)} {found.group(1)}"
    return None


def describe(name: str | None) -> str:
    """A device's name for people: the model (or system) and the browser of a User-Agent,
    a name that is no User-Agent as it is, "未命名设备" for none."""
    text = (name or "").strip()
    if not text:
        return _("未命名设备")
    if not text.startswith("Mozilla/"):
        return text
    parts = [part for part in (_system(text), _browser(text)) if part]
    return " · ".join(parts) if parts else _("未知设备")


@dataclass(frozen=True)
class DeviceLabel:
    device_id: str
    name: str
    first_seen: dt.datetime | None


def device_labels(session: Session, keys: Iterable[tuple[int, str]]) -> dict[tuple[int, str], DeviceLabel]:
    """For each (user id, device id): the name its latest login sent, described, and the time
    of its first login; a device that never logged in (an imported backup) is 未登记设备."""
    wanted = sorted(set(keys))
    found: dict[tuple[int, str], DeviceLabel] = {}
    if wanted:
        rows = session.execute(
            sa.select(DeviceToken.user_id, DeviceToken.device_id, DeviceToken.device_name, DeviceToken.created_at)
            .where(sa.tuple_(DeviceToken.user_id, DeviceToken.device_id).in_(wanted))
            .order_by(DeviceToken.created_at, DeviceToken.id))
        names: dict[tuple[int, str], str | None] = {}
        first: dict[tuple[int, str], dt.datetime] = {}
        for user_id, device_id, name, created in rows:
            names[(user_id, device_id)] = name  # ordered by time: the latest wins
            first.setdefault((user_id, device_id), created)
        found = {key: DeviceLabel(key[1], describe(names[key]), first[key]) for key in names}
    for key in wanted:
        found.setdefault(key, DeviceLabel(key[1], _("未登记设备"), None))
    return found
