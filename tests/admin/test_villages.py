"""Villages' 村委会 positions: ``fieldapp village locate|list`` and ``/admin/villages``, one use
case (fieldapp/villages.py), the earth's edges refused from the error catalogue."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask.testing import FlaskCliRunner

from fieldapp.extensions import db
from fieldapp.models import AuditLog, Village
from tests import factories

pytestmark = pytest.mark.both_backends


def _position(village: Village) -> tuple[float | None, float | None]:
    db.session.expire_all()
    fresh = db.session.get(Village, village.id)
    assert fresh is not None
    return fresh.lat, fresh.lon


def _locate(runner: FlaskCliRunner, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(args=["village", "locate", *args])
    return result.exit_code, result.stdout, result.stderr


def test_locate_sets_lists_and_clears_a_villages_position(runner: FlaskCliRunner, town) -> None:
    code, out, _err = _locate(runner, "沼山村", "--lat", "30.2621", "--lon", "114.8352")
    assert code == 0, out
    assert "已设置 保安镇/沼山村 的村委会位置：纬度 30.2621，经度 114.8352" in out
    assert _position(town.village_a) == (30.2621, 114.8352)
    assert _position(town.village_b) == (None, None)

    listing = runner.invoke(args=["village", "list"]).output.splitlines()
    assert listing[0] == "乡镇\t村/社区\t代码\t纬度\t经度"
    assert "保安镇\t沼山村\t420281101203\t30.262100\t114.835200" in listing
    assert "保安镇\t磨山村\t420281101226\t—\t—" in listing

    # by its code, cleared
    code, out, _err = _locate(runner, "420281101203", "--clear")
    assert code == 0 and "已清除 保安镇/沼山村 的村委会位置" in out
    assert _position(town.village_a) == (None, None)

    db.session.rollback()
    entries = list(db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "village_locate")
                                      .order_by(AuditLog.id)))
    assert [(e.before, e.after) for e in entries] == [
        ({"position": None}, {"position": [30.2621, 114.8352]}),
        ({"position": [30.2621, 114.8352]}, {"position": None}),
    ]
    assert entries[0].object_id == str(town.village_a.id) and entries[0].details["via"] == "cli"


@pytest.mark.parametrize(("args", "message"), [
    (["--lat", "90.5", "--lon", "114.8"], "纬度应在 -90 到 90 之间（收到 90.5）"),
    (["--lat", "114.8352", "--lon", "30.2621"], "是否把纬度和经度写反了？"),
    (["--lat", "30.2", "--lon", "-180.01"], "经度应在 -180 到 180 之间（收到 -180.01）"),
    (["--lat", "nan", "--lon", "114.8"], "纬度应在 -90 到 90 之间（收到 nan）"),
    (["--lat", "30.2", "--lon", "inf"], "经度应在 -180 到 180 之间（收到 inf）"),
    (["--lat", "30.2"], "请同时填写纬度和经度"),
    ([], "请同时填写纬度和经度"),
])
def test_positions_off_the_earth_are_refused_and_nothing_is_stored(
        runner: FlaskCliRunner, town, args: list[str], message: str) -> None:
    code, _out, err = _locate(runner, "沼山村", *args)
    assert code == 1 and message in err, err
    assert _position(town.village_a) == (None, None)


def test_the_earths_edges_are_accepted_and_outside_china_is_only_a_warning(runner: FlaskCliRunner, town) -> None:
    code, out, err = _locate(runner, "沼山村", "--lat", "-90", "--lon", "180")
    assert code == 0 and "已设置" in out
    assert "不在中国境内" in err
    assert _position(town.village_a) == (-90.0, 180.0)
    code, out, err = _locate(runner, "沼山村", "--lat", "53.5", "--lon", "122.3")  # 漠河
    assert code == 0 and err == ""


def test_unknown_and_ambiguous_villages_are_refused(runner: FlaskCliRunner, town) -> None:
    code, _out, err = _locate(runner, "沼泽村", "--lat", "30.2", "--lon", "114.8")
    assert code == 1 and "村不存在：沼泽村" in err
    other = factories.make_town("金山店镇", "420281102")
    twin = factories.make_village(other, "沼山村", "420281102201")
    db.session.commit()
    code, _out, err = _locate(runner, "沼山村", "--lat", "30.2", "--lon", "114.8")
    assert code == 1 and "多个乡镇都有沼山村，请写成 乡镇/村" in err
    code, out, _err = _locate(runner, "金山店镇/沼山村", "--lat", "30.2", "--lon", "114.8")
    assert code == 0 and "金山店镇/沼山村" in out
    assert _position(twin) == (30.2, 114.8) and _position(town.village_a) == (None, None)
    code, _out, err = _locate(runner, "沼山村", "--lat", "30.2", "--lon", "114.8", "--clear")
    assert code == 2 and "--clear" in err


# -- the admin's page -------------------------------------------------------------------

def test_admin_sets_a_position_on_the_villages_page(admin_client, town) -> None:
    page = admin_client.get("/admin/villages/").get_data(as_text=True)
    assert "沼山村" in page and "磨山村" in page and page.count("未设置") == 2
    edit = f"/admin/villages/{town.village_a.id}"
    assert admin_client.get(edit).status_code == 200
    response = admin_client.post(edit, {"lat": " 30.2621 ", "lon": "114.8352"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/villages/")
    assert _position(town.village_a) == (30.2621, 114.8352)
    page = admin_client.get("/admin/villages/").get_data(as_text=True)
    assert "30.262100, 114.835200" in page and "已保存沼山村的村委会位置" in page
    assert 'value="30.2621"' in admin_client.get(edit).get_data(as_text=True)
    entry = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "village_locate"))
    assert entry is not None and entry.user_id == town.admin.id and entry.details["via"] == "web"
    audit_page = admin_client.get("/review/audit").get_data(as_text=True)
    assert "设置了沼山村的村委会位置（纬度 30.2621，经度 114.8352）" in audit_page

    # both left empty: cleared
    assert admin_client.post(edit, {"lat": "", "lon": ""}).status_code == 302
    assert _position(town.village_a) == (None, None)


@pytest.mark.parametrize(("data", "message"), [
    ({"lat": "114.8352", "lon": "30.2621"}, "是否把纬度和经度写反了？"),
    ({"lat": "30.2621", "lon": ""}, "请同时填写纬度和经度"),
    ({"lat": "30度15分", "lon": "114.8352"}, "请输入数字（度），例如 30.2621"),
])
def test_admin_page_refuses_bad_positions(admin_client, town, data: dict[str, str], message: str) -> None:
    response = admin_client.post(f"/admin/villages/{town.village_a.id}", data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert _position(town.village_a) == (None, None)


def test_villages_page_is_for_admins_only(client, auth, town) -> None:
    auth.login("supervisor_a")
    assert client.get("/admin/villages/").status_code == 403
    assert client.get(f"/admin/villages/{town.village_a.id}").status_code == 403
