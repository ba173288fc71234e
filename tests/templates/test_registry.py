"""The template registry file: loaded with positions, rendered from Python with typed
values, refused with a TemplateError that names each bad value."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from botkit import Bot, FlowError, Settings, Template, TemplateError, load_templates
from botkit.template_registry import find_template_files


def test_render_gives_a_template_reply_with_typed_values(project: Path) -> None:
    registry = load_templates(project)
    reply = registry.render("appointment_reminder", name="Ana",
                            when=datetime(2024, 5, 3, 10, 30))
    assert isinstance(reply, Template) and reply.name == "appointment_reminder"
    assert reply.locale == "en_GB" and reply.is_rich  # a date and quick replies
    assert reply.parameters[0] == "Ana"
    assert reply.filled_fallback() == ("Hi Ana, a reminder of your appointment on "
                                       "Friday 3 May 2024, 10:30.")
    assert [b.value for b in reply.buttons] == ["confirm", "change"]
    assert registry["appointment_reminder"].payloads == ("confirm", "change")


def test_currency_number_header_url_button_and_code(project: Path) -> None:
    registry = load_templates(project)
    reply = registry.render("order_total", {"total": "1250.5", "items": 3,
                                            "header": "https://example.com/box.jpg",
                                            "order": "AB12"})
    total = reply.parameters[0]
    assert not isinstance(total, str)
    assert (total.type, total.currency_code, total.amount_1000) == ("currency", "EUR", 1250500)
    assert reply.parameters[1] == "3"
    assert reply.header is not None and reply.header.url == "https://example.com/box.jpg"
    assert reply.filled_fallback() == "3 items, 1,250.50 EUR: see example.com/o/AB12"
    code = registry.render("login_code", code="123456")
    assert code.otp == "123456" and code.filled_fallback() == "Your code is 123456"


def test_a_default_fills_a_missing_value(project: Path) -> None:
    registry = load_templates(project)
    assert registry.render("come_back").filled_fallback().startswith("Hi there,")
    assert registry["come_back"].required == ()


def test_bad_values_are_each_named(project: Path) -> None:
    registry = load_templates(project)
    with pytest.raises(TemplateError) as caught:
        registry.render("appointment_reminder", nmae="Ana", when="")
    assert caught.value.problems == {
        "nmae": "unknown parameter: did you mean 'name'? (it takes: name, when)",
        "name": "missing (text)",
        "when": "is empty",
    }
    with pytest.raises(TemplateError, match="items: expected a number"):
        registry.render("order_total", total=1, items="three", header="https://e.com/a.png",
                        order="A1")
    with pytest.raises(TemplateError, match="WhatsApp takes no new line"):
        registry.render("appointment_reminder", name="Ana\nBloggs", when="today")
    with pytest.raises(TemplateError, match="unknown template 'apointment_reminder': did you "
                                            "mean 'appointment_reminder'"):
        registry.render("apointment_reminder")
    # a CSV row with more columns than the template takes
    row = {"name": "Ana", "when": "2024-05-03", "phone": "447700900001"}
    assert registry["appointment_reminder"].problems(row, ignore_unknown=True) == {}
    assert registry.render("appointment_reminder", row, ignore_unknown=True).parameters[0] \
        == "Ana"


BAD = """\
templates:
  Bad-Name:
    language: en
    category: utility
    text: hi
  reminder:
    language: english please
    category: promo
    parameters:
      when: datetime
      total: {type: currency, currency: euro}
    buttons:
      - quick_reply: ok
      - call: "+44"
    text: "On {{when}} for {{who}}"
  code:
    language: en
    category: utility
    buttons: [{copy_code: code}]
    text: "{{code}}"
"""


def test_registry_problems_are_file_line_column(tmp_path: Path) -> None:
    path = tmp_path / "templates.yaml"
    path.write_text(BAD, encoding="utf-8")
    with pytest.raises(FlowError) as caught:
        load_templates(path)
    lines = [str(p).removeprefix(f"{path}:") for p in caught.value.problems]
    assert lines == [
        "2:3: template name 'Bad-Name': WhatsApp names are lower case letters, digits and _",
        "7:15: language: 'english please' is not a language code like en or en_GB",
        "8:15: category: 'promo' is not one of marketing, utility, authentication",
        "10:13: when: unknown type 'datetime' (types: text, number, currency, date_time)",
        "11:41: currency: a code such as EUR, for a currency parameter",
        "14:9: a button is {quick_reply: payload}, {url: value name} or "
        "{copy_code: value name}",
        "19:15: a copy_code button goes with category authentication, and an "
        "authentication template has one",
    ]


def test_unknown_placeholder_in_the_text(tmp_path: Path) -> None:
    path = tmp_path / "templates.yaml"
    path.write_text("templates:\n  hi:\n    language: en\n    category: utility\n"
                    "    parameters: {name: text}\n    text: 'Hi {{nmae}}'\n")
    with pytest.raises(FlowError, match=r"templates.yaml:6:11: text: \{\{nmae\}\} is not a "
                                        r"value of the template \(values: name\)"):
        load_templates(path)


def test_bot_templates_from_the_setting_and_add_templates(project: Path,
                                                          tmp_path: Path) -> None:
    bot = Bot(Settings(store="memory://", templates=str(project / "templates.yaml")))
    assert "login_code" in bot.templates
    other = tmp_path / "more.yaml"
    other.write_text("templates:\n  login_code:\n    language: en\n    category: utility\n"
                     "    text: hi\n")
    with pytest.raises(TemplateError, match="registered twice"):
        bot.add_templates(other)
    assert len(bot.templates) == 4  # nothing half-applied


def test_registry_files_are_found_beside_flows_and_in_folders(project: Path) -> None:
    (project / "shop.yaml").write_text("flow: shop\n")
    assert find_template_files([project / "shop.yaml"]) == [project / "templates.yaml"]
    assert find_template_files([project]) == [project / "templates.yaml"]
