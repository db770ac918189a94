"""The resident flow through the test client: every rule of the QR questionnaire page."""

from __future__ import annotations

import datetime as dt
import re
import threading
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from questionnaires import score_answers
from survey.extensions import db
from survey.models import Answer
from survey.models import CollectionPoint
from survey.models import PointScanDaily
from survey.models import QualityFlag
from survey.models import QuestionnaireVersion
from survey.models import Region
from survey.models import Response
from survey.services.questionnaires import definition_of
from tests.survey.public.conftest import Sample
from tests.survey.public.conftest import open_form
from tests.survey.public.conftest import response_count
from tests.survey.public.conftest import valid_answers

STATIC = Path(__file__).resolve().parents[3] / "survey" / "static"


def _stored(app: Flask) -> Response:
    with app.app_context():
        response = db.session.execute(db.select(Response)).scalar_one()
        response.answers  # noqa: B018  (load before the session closes)
        db.session.expunge_all()
        return response


# --- the page -----------------------------------------------------------------------------


def test_page_renders_every_question_in_chinese(client: FlaskClient, sample: Sample) -> None:
    page = open_form(client, sample.code)
    assert '<html lang="zh-CN">' in page.html
    assert "全国文明城市创建市民问卷" in page.html
    assert "第1部分 / 共4部分" in page.html and "第4部分 / 共4部分" in page.html
    for key in ("age_group", "residence", "aware_report", "sat_overall", "suggestions"):
        assert f'id="q-{key}"' in page.html
    assert 'type="checkbox"' in page.html and 'type="radio"' in page.html
    assert "滨江街道" in page.html and '<optgroup label="临江区">' in page.html
    assert "（第11题选“参加过”的请回答此题）" in page.html


def test_page_headers_and_device_cookie(client: FlaskClient, sample: Sample) -> None:
    response = client.get(f"/q/{sample.code}")
    assert response.headers["Cache-Control"] == "no-store"
    cookie = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("sv_device=")]
    assert len(cookie) == 1
    assert "HttpOnly" in cookie[0] and "SameSite=Lax" in cookie[0] and "Max-Age=" in cookie[0]
    # A returning device keeps its cookie.
    again = client.get(f"/q/{sample.code}")
    assert not [h for h in again.headers.getlist("Set-Cookie") if h.startswith("sv_device=")]


def test_code_is_case_insensitive(client: FlaskClient, sample: Sample) -> None:
    assert client.get(f"/q/{sample.code.lower()}").status_code == 200


def test_page_weight_under_40_kb(client: FlaskClient, sample: Sample) -> None:
    html = client.get(f"/q/{sample.code}").data
    css = (STATIC / "public.css").read_bytes()
    js = (STATIC / "public.js").read_bytes()
    total = len(html) + len(css) + len(js)
    assert total < 40 * 1024, f"page weight {total} bytes"


def test_no_external_requests(client: FlaskClient, sample: Sample) -> None:
    html = client.get(f"/q/{sample.code}").get_data(as_text=True)
    css = (STATIC / "public.css").read_text(encoding="utf-8")
    js = (STATIC / "public.js").read_text(encoding="utf-8")
    for text in (html, css, js):
        assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/|@import|url\(", text, re.I)
    refs = re.findall(r'(?:src|href|action)="([^"]*)"', html)
    assert refs and all(ref.startswith(("/", "#", "data:,")) for ref in refs), refs


def test_readable_for_elderly_people() -> None:
    css = (STATIC / "public.css").read_text(encoding="utf-8")
    size = re.search(r"html\{font-size:(\d+)px", css)
    assert size and int(size.group(1)) >= 18
    for rule in (".opt{", "select,.txt,.num,.other{", ".btn{"):
        block = css[css.index(rule) :].split("}", 1)[0]
        height = re.search(r"min-height:(\d+)px", block)
        assert height and int(height.group(1)) >= 44, rule


# --- unknown, revoked, expired, closed ----------------------------------------------------


@pytest.mark.parametrize("code", ["ZZZZZZZZZ", "abc", "0OOOOOOOO", "x" * 200])
def test_unknown_code_is_404_in_chinese(client: FlaskClient, seeded: Flask, code: str) -> None:
    for response in (client.get(f"/q/{code}"), client.post(f"/q/{code}", data={})):
        assert response.status_code == 404
        text = response.get_data(as_text=True)
        assert "页面不存在" in text and "Traceback" not in text


def _change_point(app: Flask, point_id: int, **changes: Any) -> None:
    with app.app_context():
        point = db.session.get(CollectionPoint, point_id)
        assert point is not None
        for key, value in changes.items():
            if key == "status":
                point.questionnaire_version.status = value
            else:
                setattr(point, key, value)
        db.session.commit()


@pytest.mark.parametrize(
    "changes",
    [
        {"active": False},
        {"revoked_at": dt.datetime(2020, 1, 1, tzinfo=dt.UTC)},
        {"expires_at": dt.datetime(2020, 1, 1, tzinfo=dt.UTC)},
        {"status": "closed"},
        {"status": "draft"},
    ],
    ids=["inactive", "revoked", "expired", "closed", "draft"],
)
def test_unavailable_point_is_410(
    client: FlaskClient, seeded: Flask, sample: Sample, changes: dict[str, Any]
) -> None:
    page = open_form(client, sample.code)
    _change_point(seeded, sample.point_id, **changes)
    for response in (
        client.get(f"/q/{sample.code}"),
        client.post(f"/q/{sample.code}", data=page.body(valid_answers(sample.street_code))),
    ):
        assert response.status_code == 410
        assert "问卷已停止收集" in response.get_data(as_text=True)
    assert response_count(seeded) == 0


def test_point_expiring_later_is_open(client: FlaskClient, seeded: Flask, sample: Sample) -> None:
    _change_point(seeded, sample.point_id, expires_at=dt.datetime(2999, 1, 1, tzinfo=dt.UTC))
    assert client.get(f"/q/{sample.code}").status_code == 200


# --- a valid response ---------------------------------------------------------------------


def test_valid_submission_is_stored_with_scores(
    client: FlaskClient, seeded: Flask, sample: Sample
) -> None:
    page = open_form(client, sample.code)
    answers = valid_answers(sample.street_code)
    response = client.post(f"/q/{sample.code}", data=page.body(answers))
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/q/{sample.code}/thanks")
    thanks = client.get(response.headers["Location"])
    assert thanks.status_code == 200
    assert "感谢您的参与！文明城市，人人共建" in thanks.get_data(as_text=True)

    with seeded.app_context():
        stored = db.session.execute(db.select(Response)).scalar_one()
        point = db.session.get(CollectionPoint, sample.point_id)
        assert point is not None
        defn = definition_of(point.questionnaire_version)
        plain = {k: v for k, v in answers.items() if "__" not in k}
        scores = score_answers(defn, plain)
        assert stored.awareness == pytest.approx(scores.awareness)
        assert stored.participation == pytest.approx(scores.participation)
        assert stored.satisfaction == pytest.approx(scores.satisfaction)
        assert stored.satisfaction_score == pytest.approx(scores.satisfaction_score)
        assert stored.point_id == point.id and stored.region_id == point.region_id
        assert stored.channel_id == point.channel_id
        district = db.session.get(Region, stored.district_id)
        assert district is not None and district.level == "district"
        assert point.region.is_within(district)
        assert stored.questionnaire_version_id == point.questionnaire_version_id
        assert stored.questionnaire_id == point.questionnaire_version.questionnaire_id
        assert (stored.age_group, stored.sex) == ("30-39", "female")
        assert stored.residence_region_id == sample.street_id
        assert stored.source == "qr"
        assert stored.served_at is not None and stored.duration_seconds is not None
        assert 0 <= stored.duration_seconds < 60
        assert stored.week_start.weekday() == 0
        assert stored.form_instance and len(stored.form_instance) <= 64
        assert stored.device_hash and re.fullmatch(r"[0-9a-f]{64}", stored.device_hash)
        rows = {(a.question_key, a.value, a.text) for a in stored.answers}
        assert ("aware_report", "hotline", None) in rows and ("aware_report", "grid", None) in rows
        assert ("volunteer_kind", "other", "图书馆整理") in rows
        assert ("residence", sample.street_code, None) in rows
        assert ("suggestions", None, "希望多建一些公园。") in rows
        assert len(stored.answers) == 28


def test_device_cookie_and_ip_are_never_stored(
    client: FlaskClient, seeded: Flask, sample: Sample
) -> None:
    page = open_form(client, sample.code)
    cookie = client.get_cookie("sv_device")
    assert cookie is not None
    client.post(
        f"/q/{sample.code}",
        data=page.body(valid_answers(sample.street_code)),
        environ_base={"REMOTE_ADDR": "203.0.113.77"},
        headers={"X-Forwarded-For": "198.51.100.9"},
    )
    with seeded.app_context():
        stored = db.session.execute(db.select(Response)).scalar_one()
        values = [str(getattr(stored, c.key)) for c in Response.__table__.columns]
        values += [str(a.text) for a in stored.answers]
    joined = " ".join(values)
    assert cookie.value not in joined and cookie.value.split(".")[0] not in joined
    assert "203.0.113.77" not in joined and "198.51.100.9" not in joined


def test_quality_flags(client: FlaskClient, seeded: Flask, sample: Sample) -> None:
    page = open_form(client, sample.code)
    answers = valid_answers(sample.street_code)
    for key in answers:
        if key.startswith("sat_") and key != "sat_improved":
            answers[key] = "satisfied"
    client.post(f"/q/{sample.code}", data=page.body(answers))
    stored = _stored(seeded)
    assert stored.flags & QualityFlag.TOO_FAST  # answered within a second
    assert stored.flags & QualityFlag.STRAIGHT_LINE
    assert not stored.flags & QualityFlag.NO_TIMING


def test_hidden_answers_are_dropped(client: FlaskClient, seeded: Flask, sample: Sample) -> None:
    page = open_form(client, sample.code)
    answers = valid_answers(sample.street_code)
    answers["volunteered"] = "no"  # hides frequency and kind, which are still sent
    response = client.post(f"/q/{sample.code}", data=page.body(answers))
    assert response.status_code == 303
    keys = {a.question_key for a in _stored(seeded).answers}
    assert "volunteered" in keys
    assert not keys & {"volunteer_frequency", "volunteer_kind"}


def test_optional_and_hidden_questions_may_be_left_out(
    client: FlaskClient, seeded: Flask, sample: Sample
) -> None:
    page = open_form(client, sample.code)
    answers = valid_answers(sample.street_code)
    answers["volunteered"] = "no"
    for key in ("volunteer_frequency", "volunteer_kind", "volunteer_kind__other", "suggestions"):
        del answers[key]
    assert client.post(f"/q/{sample.code}", data=page.body(answers)).status_code == 303
    assert response_count(seeded) == 1


# --- errors a person can make: shown next to the question, answers kept ---------------------


def _question_block(html: str, key: str) -> str:
    start = html.index(f'id="q-{key}"')
    return html[start : html.index("</fieldset>", start)]


def test_missing_required_answer_shows_error_next_to_it(
    client: FlaskClient, seeded: Flask, sample: Sample
) -> None:
    page = open_form(client, sample.code)
    answers = valid_answers(sample.street_code)
    del answers["sat_traffic"]
    response = client.post(f"/q/{sample.code}", data=page.body(answers))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "此题为必答题，请选择一项。" in _question_block(html, "sat_traffic")
    assert html.count('class="err"') == 1
    assert 'href="#q-sat_traffic"' in html  # summary link to the question
    # Answers are kept: radio and check boxes checked, select and text filled in.
    assert re.search(r'value="fairly"[^>]*checked|checked[^>]*value="fairly"', html)
    aware = _question_block(html, "aware_report")
    assert len(re.findall(r"checked", aware)) == 2
    assert f'value="{sample.street_code}" selected' in html
    assert "希望多建一些公园。" in html and 'value="图书馆整理"' in html
    assert f'value="{page.instance}"' in html  # same form instance: retries stay idempotent
    assert response_count(seeded) == 0


@pytest.mark.parametrize(
    ("change", "key", "message"),
    [
        ({"aware_report": []}, "aware_report", "此题为必答题，请至少选择一项。"),
        ({"residence": ""}, "residence", "此题为必答题，请选择一项。"),
        ({"volunteer_frequency": None}, "volunteer_frequency", "此题为必答题"),
        ({"volunteer_kind__other": ""}, "volunteer_kind", "您选择了“其他”，请填写具体内容。"),
        ({"volunteer_kind__other": "长" * 101}, "volunteer_kind", "“其他”最多可填写100个字。"),
        ({"suggestions": "很" * 201}, "suggestions", "最多可填写200个字，您填写了201个字"),
    ],
    ids=["multiple", "region", "shown-by-skip-logic", "other-empty", "other-long", "text-long"],
)
def test_rule_violations_are_explained(
    client: FlaskClient,
    seeded: Flask,
    sample: Sample,
    change: dict[str, Any],
    key: str,
    message: str,
) -> None:
    page = open_form(client, sample.code)
    answers = valid_answers(sample.street_code)
    for k, v in change.items():
        if v is None:
            del answers[k]
        else:
            answers[k] = v
    response = client.post(f"/q/{sample.code}", data=page.body(answers))
    assert response.status_code == 200
    assert message in _question_block(response.get_data(as_text=True), key)
    assert response_count(seeded) == 0


def test_fixing_the_error_then_submitting_works(
    client: FlaskClient, seeded: Flask, sample: Sample
) -> None:
    page = open_form(client, sample.code)
    answers = valid_answers(sample.street_code)
    incomplete = {k: v for k, v in answers.items() if k != "sex"}
    assert client.post(f"/q/{sample.code}", data=page.body(incomplete)).status_code == 200
    assert client.post(f"/q/{sample.code}", data=page.body(answers)).status_code == 303
    assert response_count(seeded) == 1


# --- bodies no browser sends: 400 (413 when too large), nothing stored ----------------------


def _post_raw(
    client: FlaskClient, code: str, body: bytes, ctype: str = "application/x-www-form-urlencoded"
) -> Any:
    return client.post(f"/q/{code}", data=body, headers={"Content-Type": ctype})


def _encode(fields: list[tuple[str, str]]) -> bytes:
    from urllib.parse import urlencode

    return urlencode(fields).encode("ascii")


def _pairs(page: Any, answers: dict[str, Any]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for key, value in page.body(answers).items():
        if isinstance(value, list):
            out.extend((key, v) for v in value)
        else:
            out.append((key, value))
    return out


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda p: [*p, ("is_admin", "1")], "问卷中没有的项目"),
        (lambda p: [*p, ("sex", "male")], "重复项"),
        (lambda p: [*p, ("_inst", "x")], "重复项"),
        (lambda p: [(k, "very_happy" if k == "sat_overall" else v) for k, v in p], "不在问卷选项"),
        (lambda p: [(k, "999999999" if k == "residence" else v) for k, v in p], "不在问卷选项"),
        (lambda p: [(k, "a\x00b" if k == "suggestions" else v) for k, v in p], "无法识别的字符"),
        (lambda p: [(k, v[:-2] + "AA" if k == "_inst" else v) for k, v in p], "无法验证"),
        (lambda p: [(k, v + "x" if k == "_inst" else v) for k, v in p], "无法验证"),
        (lambda p: [(k, v) for k, v in p if k != "_inst"], "无法验证"),
    ],
    ids=[
        "unknown",
        "duplicated",
        "duplicated-hidden",
        "tampered",
        "foreign-region",
        "nul",
        "bad-instance",
        "longer-instance",
        "no-instance",
    ],
)
def test_bad_bodies_are_400(
    client: FlaskClient, seeded: Flask, sample: Sample, mutate: Any, message: str
) -> None:
    page = open_form(client, sample.code)
    body = _encode(mutate(_pairs(page, valid_answers(sample.street_code))))
    response = _post_raw(client, sample.code, body)
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert message in text and "请求有误" in text
    assert response_count(seeded) == 0


@pytest.mark.parametrize(
    ("body", "ctype"),
    [
        (b"sex=%FF%FE", "application/x-www-form-urlencoded"),
        (b"sex=\xff\xfe", "application/x-www-form-urlencoded"),
        (b"sex=male", "application/x-www-form-urlencoded; charset=gbk"),
        (
            b"--b\r\nContent-Disposition: form-data; name=sex\r\n\r\nmale\r\n--b--",
            "multipart/form-data; boundary=b",
        ),
        (b'{"sex": "male"}', "application/json"),
        (b"&".join([b"sex=male"] * 500), "application/x-www-form-urlencoded"),
    ],
    ids=["bad-percent-utf8", "raw-bytes", "charset", "multipart", "json", "too-many-fields"],
)
def test_malformed_encodings_are_400(
    client: FlaskClient, seeded: Flask, sample: Sample, body: bytes, ctype: str
) -> None:
    open_form(client, sample.code)
    response = _post_raw(client, sample.code, body, ctype)
    assert response.status_code == 400
    assert "请求有误" in response.get_data(as_text=True)
    assert response_count(seeded) == 0


def test_oversized_body_is_refused(client: FlaskClient, seeded: Flask, sample: Sample) -> None:
    page = open_form(client, sample.code)
    answers = valid_answers(sample.street_code)
    answers["suggestions"] = "x" * (70 * 1024)
    response = client.post(f"/q/{sample.code}", data=page.body(answers))
    assert response.status_code == 413
    assert "提交内容过大" in response.get_data(as_text=True)
    assert response_count(seeded) == 0


def test_instance_of_another_point_is_refused(
    client: FlaskClient, seeded: Flask, sample: Sample
) -> None:
    with seeded.app_context():
        other = (
            db.session.execute(
                db.select(CollectionPoint.code).where(CollectionPoint.id != sample.point_id)
            )
            .scalars()
            .first()
        )
    page = open_form(client, sample.code)
    response = client.post(f"/q/{other}", data=page.body(valid_answers(sample.street_code)))
    assert response.status_code == 400
    assert response_count(seeded) == 0


# --- idempotency and one response per device ----------------------------------------------


def test_repeated_post_returns_same_thank_you(
    client: FlaskClient, seeded: Flask, sample: Sample
) -> None:
    page = open_form(client, sample.code)
    body = page.body(valid_answers(sample.street_code))
    first = client.post(f"/q/{sample.code}", data=body)
    second = client.post(f"/q/{sample.code}", data=body)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert response_count(seeded) == 1


def test_resident_pages_use_no_session(client: FlaskClient, sample: Sample) -> None:
    """The whole flow sets no session cookie: the form instance is bound to the device
    cookie."""
    page = open_form(client, sample.code)
    response = client.post(f"/q/{sample.code}", data=page.body(valid_answers(sample.street_code)))
    assert response.status_code == 303
    assert client.get(response.headers["Location"]).status_code == 200
    assert client.get_cookie("session") is None
    assert client.get_cookie("sv_device") is not None


def test_csrf_token_of_another_device_is_refused(app: Flask, seeded: Flask, sample: Sample) -> None:
    """A page's form instance (its CSRF token) works only with the device cookie it was
    served to."""
    mine, theirs = seeded.test_client(), seeded.test_client()
    page = open_form(mine, sample.code)
    open_form(theirs, sample.code)  # theirs now holds a device cookie of its own
    forged = theirs.post(f"/q/{sample.code}", data=page.body(valid_answers(sample.street_code)))
    assert forged.status_code == 400 and "页面已过期" in forged.get_data(as_text=True)
    # Without any device cookie (a cross-site post, SameSite=Lax) it is refused too.
    bare = seeded.test_client()
    response = bare.post(f"/q/{sample.code}", data=page.body(valid_answers(sample.street_code)))
    assert response.status_code == 400 and "页面已过期" in response.get_data(as_text=True)
    assert response_count(seeded) == 0
    assert (
        mine.post(
            f"/q/{sample.code}", data=page.body(valid_answers(sample.street_code))
        ).status_code
        == 303
    )
    assert response_count(seeded) == 1


def test_page_with_the_former_separate_csrf_field_still_submits(
    client: FlaskClient, seeded: Flask, sample: Sample
) -> None:
    """A page served before the form instance became the CSRF token carried a
    ``csrf_token`` field as well: such a page, still open in a browser, submits."""
    page = open_form(client, sample.code)
    body = {"csrf_token": "IjBkZjU4In0.old-token", **page.body(valid_answers(sample.street_code))}
    response = client.post(f"/q/{sample.code}", data=body)
    assert response.status_code == 303
    assert response_count(seeded) == 1


def test_resident_pages_neither_read_nor_write_a_staff_session(
    seeded: Flask, sample: Sample
) -> None:
    """A browser signed in as staff sends its session cookie to resident pages too: they
    do not decode it, send it back or vary on it, and a resident view cannot write one."""
    from flask import session

    client = seeded.test_client()
    client.set_cookie("session", "not-even-a-valid-signature")
    responses = [client.get(f"/q/{sample.code}")]
    page = open_form(client, sample.code)
    responses.append(
        client.post(f"/q/{sample.code}", data=page.body(valid_answers(sample.street_code)))
    )
    responses.append(client.get(responses[-1].headers["Location"]))
    for response in responses:
        assert response.status_code in (200, 303)
        assert not any(c.startswith("session=") for c in response.headers.getlist("Set-Cookie"))
        assert "Cookie" not in response.headers.get("Vary", ""), response.request.path
    with seeded.test_request_context(f"/q/{sample.code}"):
        assert not session
        with pytest.raises(RuntimeError):
            session["x"] = 1


def test_csrf_token_expires(
    client: FlaskClient, seeded: Flask, sample: Sample, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page's form instance is accepted for ``WTF_CSRF_TIME_LIMIT`` seconds after it was
    served (measured on the clock that stamped it), not after."""
    import datetime as dt

    from survey.services import form_tokens

    page = open_form(client, sample.code)
    limit = int(seeded.config["WTF_CSRF_TIME_LIMIT"])
    with seeded.app_context():
        served = form_tokens.load_instance(sample.point_id, page.instance)
    assert served is not None
    late = served.served_at + dt.timedelta(seconds=limit + 5)
    monkeypatch.setattr(form_tokens, "utcnow", lambda: late)
    response = client.post(f"/q/{sample.code}", data=page.body(valid_answers(sample.street_code)))
    assert response.status_code == 400 and "页面已过期" in response.get_data(as_text=True)
    assert response_count(seeded) == 0
    in_time = served.served_at + dt.timedelta(seconds=limit - 5)
    monkeypatch.setattr(form_tokens, "utcnow", lambda: in_time)
    response = client.post(f"/q/{sample.code}", data=page.body(valid_answers(sample.street_code)))
    assert response.status_code == 303
    assert response_count(seeded) == 1


def test_retry_after_lost_cookie_is_still_idempotent(
    app: Flask, seeded: Flask, sample: Sample
) -> None:
    client = seeded.test_client()
    page = open_form(client, sample.code)
    body = page.body(valid_answers(sample.street_code))
    assert client.post(f"/q/{sample.code}", data=body).status_code == 303
    client.delete_cookie("sv_device")
    assert client.post(f"/q/{sample.code}", data=body).status_code == 303
    assert response_count(seeded) == 1


def test_second_submission_from_same_device(
    client: FlaskClient, seeded: Flask, sample: Sample
) -> None:
    first = open_form(client, sample.code)
    second = open_form(client, sample.code)  # a second tab opened before submitting
    assert client.post(f"/q/{sample.code}", data=first.body(valid_answers(sample.street_code)))
    response = client.post(f"/q/{sample.code}", data=second.body(valid_answers(sample.street_code)))
    assert response.status_code == 409
    assert "您已经提交过" in response.get_data(as_text=True)
    # Scanning again shows the same page before anything is filled in.
    again = client.get(f"/q/{sample.code}")
    assert again.status_code == 200 and "您已经提交过" in again.get_data(as_text=True)
    # Also from another point of the same questionnaire.
    with seeded.app_context():
        other = (
            db.session.execute(
                db.select(CollectionPoint.code).where(CollectionPoint.id != sample.point_id)
            )
            .scalars()
            .first()
        )
    assert "您已经提交过" in client.get(f"/q/{other}").get_data(as_text=True)
    assert response_count(seeded) == 1


def test_other_devices_may_answer(seeded: Flask, sample: Sample) -> None:
    for _ in range(3):
        client = seeded.test_client()
        page = open_form(client, sample.code)
        body = page.body(valid_answers(sample.street_code))
        assert client.post(f"/q/{sample.code}", data=body).status_code == 303
    assert response_count(seeded) == 3


def test_forged_device_cookie_is_ignored(client: FlaskClient, sample: Sample) -> None:
    client.set_cookie("sv_device", "forged.value")
    response = client.get(f"/q/{sample.code}")
    assert response.status_code == 200
    assert any(h.startswith("sv_device=") for h in response.headers.getlist("Set-Cookie"))


def test_race_on_the_unique_constraint_is_handled(
    client: FlaskClient, seeded: Flask, sample: Sample
) -> None:
    """A retried post of a stored form: the UNIQUE constraint decides (no query before it)."""
    page = open_form(client, sample.code)
    body = page.body(valid_answers(sample.street_code))
    assert client.post(f"/q/{sample.code}", data=body).status_code == 303
    response = client.post(f"/q/{sample.code}", data=body)
    assert response.status_code == 303  # IntegrityError caught, rolled back, same thank-you
    assert response_count(seeded) == 1
    # The session is usable again afterwards.
    assert client.get(f"/q/{sample.code}/thanks").status_code == 200


def test_race_between_two_instances_of_one_device(
    client: FlaskClient, seeded: Flask, sample: Sample
) -> None:
    first = open_form(client, sample.code)
    second = open_form(client, sample.code)
    client.post(f"/q/{sample.code}", data=first.body(valid_answers(sample.street_code)))
    response = client.post(f"/q/{sample.code}", data=second.body(valid_answers(sample.street_code)))
    assert response.status_code == 409 and "您已经提交过" in response.get_data(as_text=True)
    assert response_count(seeded) == 1


def test_concurrent_double_submit_stores_one_row(seeded: Flask, sample: Sample) -> None:
    client = seeded.test_client()
    page = open_form(client, sample.code)
    body = page.body(valid_answers(sample.street_code))
    cookies = {}
    for name in ("sv_device",):
        cookie = client.get_cookie(name)
        assert cookie is not None
        cookies[name] = cookie.value
    barrier = threading.Barrier(4)
    statuses: list[int] = []
    lock = threading.Lock()

    def post() -> None:
        c = seeded.test_client()
        for key, value in cookies.items():
            c.set_cookie(key, value)
        barrier.wait()
        status = c.post(f"/q/{sample.code}", data=body).status_code
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=post) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [303] * 4
    assert response_count(seeded) == 1
    with seeded.app_context():
        assert db.session.execute(db.select(db.func.count(Answer.id))).scalar_one() == 28


# --- scans --------------------------------------------------------------------------------


def test_each_get_counts_a_scan(client: FlaskClient, seeded: Flask, sample: Sample) -> None:
    for _ in range(3):
        client.get(f"/q/{sample.code}")
    client.get(f"/q/{sample.code}/thanks")
    with seeded.app_context():
        rows = db.session.execute(db.select(PointScanDaily)).scalars().all()
        assert [(r.point_id, r.scans) for r in rows] == [(sample.point_id, 3)]


def test_closed_version_status_is_checked_through_the_version(
    client: FlaskClient, seeded: Flask, sample: Sample
) -> None:
    with seeded.app_context():
        version = db.session.execute(db.select(QuestionnaireVersion)).scalars().first()
        assert version is not None and version.status == "open"
    assert client.get(f"/q/{sample.code}").status_code == 200
