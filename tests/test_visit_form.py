"""The WTForms class and HTML generated from the form definition (CSRF on)."""

from __future__ import annotations

from tests.conftest import csrf_token_from
from tests.factories import visit_data


def _form_strings(data: dict) -> dict:
    out = {}
    for key, value in data.items():
        if value is None:
            continue
        out[key] = "true" if value is True else "false" if value is False else value
    return out


def test_html_form_has_every_field_named_by_id(client, auth, town) -> None:
    auth.login("supervisor_a")
    html = client.get("/form").get_data(as_text=True)
    from sync.form import load_form

    for field in load_form().input_fields:
        assert f'name="{field.id}"' in html, field.id
    assert 'data-visible="housing_unsafe == true"' in html
    assert "两不愁三保障及饮水安全" in html


def test_server_rules_apply_to_the_web_form(client, auth, town) -> None:
    auth.login("supervisor_a")
    token = csrf_token_from(client.get("/form").get_data(as_text=True))
    data = _form_strings(visit_data(None, category="lifted", monitor_type="marginal", risk_eliminated=False,
                                    housing_unsafe=True, housing_grade="C"))
    data["csrf_token"] = token
    html = client.post("/form", data=data).get_data(as_text=True)
    assert "只有一般农户可以是边缘易致贫户" in html
    assert "致贫返贫风险类型须包含“因安全住房”" in html


def test_valid_web_form_passes_with_flags(client, auth, town) -> None:
    auth.login("supervisor_a")
    token = csrf_token_from(client.get("/form").get_data(as_text=True))
    data = _form_strings(visit_data(None))
    data["csrf_token"] = token
    html = client.post("/form", data=data).get_data(as_text=True)
    assert "校验通过" in html
    assert "人均纯收入低于1万元=否" in html
