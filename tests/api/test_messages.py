"""Every message a user can meet is Vietnamese: a sweep of every route's refusals (generated invalid requests,
crafted ones) for English-only text and internal codes, plus the translation of pydantic's validation errors."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from api.validation_vi import message_vi
from models import vocabulary

#: Letters only Vietnamese text has (đ, ơ, ư, ă, â, ê, ô and the tone marks over vowels).
VIETNAMESE = re.compile(r"[đĐơƠưƯăĂâÂêÊôÔàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ]")
#: Codes of the vocabulary that are English words (or joined with _): none may appear in the Vietnamese part.
CODES = {
    v
    for enum in vars(vocabulary).values()
    if isinstance(enum, type) and issubclass(enum, vocabulary.Vocabulary) and enum is not vocabulary.Vocabulary
    for v in enum.values()
    if len(v) > 3
}


def vietnamese_part(detail: str) -> str:
    """A message without the English reasons and codes that may follow in parentheses (ASCII-only groups), nor what it
    quotes of the request as sent («…»: an unknown field named "backup" is the client's word, not a leaked code)."""
    return re.sub(r"«[^»]*»", "«»", re.sub(r"\s*\([\x00-\x7f]*\)", "", detail))


def assert_vietnamese(detail: str, where: str) -> None:
    shown = vietnamese_part(detail)
    assert VIETNAMESE.search(shown), f"{where}: English-only message {detail!r}"
    leaked = [code for code in CODES if re.search(rf"(?<![\w]){re.escape(code)}(?![\w])", shown)]
    assert not leaked, f"{where}: internal codes {leaked} in {detail!r}"


def test_every_refusal_of_every_route_is_vietnamese(api_schema) -> None:
    headers = api_schema.app.state.fuzz_headers
    operations = [result.ok() for result in api_schema.get_all_operations()]
    refusals = 0
    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))
        @settings(
            max_examples=4, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck)
        )
        def refused_in_vietnamese(case) -> None:
            nonlocal refusals
            response = case.call(headers=headers)
            if response.status_code >= 400 and "json" in str(response.headers.get("content-type", "")):
                refusals += 1
                assert_vietnamese(response.json()["detail"], f"{case.method} {case.formatted_path}")

        try:
            refused_in_vietnamese()
        except Unsatisfiable:  # an operation without parameters or body has no invalid request to generate
            continue
    assert refusals > len(operations), "the sweep must see refusals of most routes"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/api/hotspots/1/transitions", {"to": "closed", "version": 0}),
        ("post", "/api/tasks", {"kind": "suppression"}),
        ("post", "/api/tasks", {"kind": "conversion", "commune_code": "x" * 40, "year": 1900}),
        ("post", "/api/hotspots", {"lon": "đông", "lat": 20.8, "note": ""}),
        ("get", "/api/incidents?limit=0&bbox=1,2,3", None),
        ("get", "/api/heat?kind=cocaine", None),
        ("get", "/api/tasks/abc", None),
        ("post", "/api/classifications/2025/overrides", {"commune_code": "10507", "category": "rural", "reason": " "}),
    ],
)
def test_crafted_refusals_are_vietnamese(client, method: str, path: str, body: dict | None) -> None:
    response = client.request(method, path, json=body)
    assert 400 <= response.status_code < 500
    assert_vietnamese(response.json()["detail"], f"{method} {path}")


#: A sheet name of more than the 1 MB a form field may hold.
LONG_FIELD = b'--b\r\nContent-Disposition: form-data; name="sheet"\r\n\r\n' + b"x" * (1100 << 10) + b"\r\n--b--\r\n"


@pytest.mark.parametrize(
    ("content_type", "body", "said"),
    [
        (
            "multipart/form-data; boundary=b",
            b"--b\r\nContent-Disposition: form-data\r\n\r\nx\r\n--b--\r\n",
            "không tên",
        ),
        ("multipart/form-data", b"--b\r\n", "thiếu dấu ranh giới"),
        ("multipart/form-data; boundary=b", LONG_FIELD, "dài quá 1024 KB"),
    ],
)
def test_a_broken_upload_form_is_refused_saying_what_is_wrong(
    client, content_type: str, body: bytes, said: str
) -> None:
    """The framework's refusals of a multipart form say what is wrong with it in Vietnamese (they were all «yêu cầu
    không đọc được», the English reason in parentheses)."""
    response = client.post("/api/imports/incidents", content=body, headers={"Content-Type": content_type})
    assert response.status_code == 400
    assert said in response.json()["message"] and said in response.json()["detail"]


def test_a_refusal_carries_its_vietnamese_message_alone_for_the_pages(client) -> None:
    """`detail` adds the English reason for other clients and the logs; `message`, what a page shows, is only
    Vietnamese (a team's phone showed "(not a JPEG, PNG or WebP file (magic bytes))", "(request body too large: …)")."""
    refused = client.post("/api/classifications/2025/approve").json()  # command may not approve
    assert refused["detail"] == f"{refused['message']} (allowed roles: planner)"
    assert refused["message"] == "vai trò «Ban chỉ huy» không được phép thao tác này (chỉ «Cán bộ tham mưu»)"
    too_big = client.post("/api/tasks/1/comments", content=b"x" * (2**20 + 1), headers={"content-type": "text/plain"})
    assert too_big.status_code == 413
    assert too_big.json()["message"] == "nội dung yêu cầu quá lớn: tối đa 1 MB"
    unknown = client.get("/api/no-such-route").json()
    assert unknown["message"] == "không tìm thấy đường dẫn này"
    invalid = client.post("/api/tasks/1/comments", json={"note": ""}).json()
    assert invalid["message"] == invalid["detail"]


def test_validation_errors_are_translated_with_field_labels(client) -> None:
    response = client.post("/api/tasks/1/comments", json={"note": ""})
    body = response.json()
    assert response.status_code == 422 and body["code"] == "validation_error"
    assert "ghi chú: cần ít nhất 1 ký tự" in body["detail"] and "String should" not in body["detail"]
    assert body["errors"][0]["loc"] == ["body", "note"] and "input" not in body["errors"][0]


def test_every_parameter_and_body_field_has_a_vietnamese_label(client) -> None:
    """A refusal names its field by a Vietnamese label: every parameter and every field of a request body in the
    OpenAPI description has one (`valid_from`, `active` and 15 others were shown by their code)."""
    from models.vocabulary import FIELD_LABELS

    spec = client.app.openapi()
    names = {p["name"] for ops in spec["paths"].values() for op in ops.values() for p in op.get("parameters", [])}
    schemas = [
        content["schema"]
        for ops in spec["paths"].values()
        for op in ops.values()
        for content in op.get("requestBody", {}).get("content", {}).values()
    ]
    while schemas:  # the bodies and the models they hold (a task's checklist items)
        schema = schemas.pop()
        names |= set(schema.get("properties", {}))
        refs = re.findall(r"'\$ref': '#/components/schemas/([^']+)'", str(schema))
        schemas += [spec["components"]["schemas"][ref] for ref in refs]
    assert sorted(names - set(FIELD_LABELS)) == []


def test_an_unknown_pydantic_error_keeps_a_vietnamese_sentence() -> None:
    assert message_vi({"type": "some_future_error", "msg": "Something new"}).startswith("giá trị không hợp lệ")


def _lax_scalars(model: type) -> list[str]:
    """Fields of a request body holding a bool, int or float that pydantic would coerce (not strict)."""
    from typing import Annotated, get_args, get_origin

    from pydantic import Strict

    def lax(annotation: object, metadata: list) -> bool:
        if annotation in (bool, int, float):
            return not any(isinstance(m, Strict) for m in metadata)
        if get_origin(annotation) is Annotated:
            base, *extra = get_args(annotation)
            return lax(base, [*metadata, *extra])
        return any(lax(arg, []) for arg in get_args(annotation))

    return [f"{model.__name__}.{n}" for n, f in model.model_fields.items() if lax(f.annotation, f.metadata)]


def test_numbers_and_yes_no_fields_of_a_body_are_strict(client, make_user, bearer) -> None:
    """A request body's numbers and booleans are strict: `true` is not team 1, "3" is not 3, 0 or "yes" is not a
    boolean; each is refused in Vietnamese (schemathesis found `{"active": 0}` deactivating a user)."""
    from api.schemas import _In

    def bodies(cls: type) -> list[type]:
        return [cls, *(b for sub in cls.__subclasses__() for b in bodies(sub))]

    lax = [name for model in bodies(_In) for name in _lax_scalars(model)]
    assert not lax, f"numbers or booleans of request bodies that pydantic would coerce: {lax}"
    client.headers.update(bearer(make_user("quan-tri", "admin")))
    user_id = make_user("chi-huy-2", "command")
    version = next(u["version"] for u in client.get("/api/users").json() if u["id"] == user_id)
    for body, words in (
        ({"active": 0, "version": version}, "phải là true hoặc false"),
        ({"active": "yes", "version": version}, "phải là true hoặc false"),
        ({"active": False, "version": True}, "phải là số nguyên"),
        ({"active": False, "version": str(version)}, "phải là số nguyên"),
    ):
        response = client.patch(f"/api/users/{user_id}", json=body)
        assert response.status_code == 422 and words in response.json()["detail"], (body, response.text)
    assert client.patch(f"/api/users/{user_id}", json={"active": False, "version": version}).status_code == 200


def test_a_field_a_body_does_not_have_is_refused_by_its_name(client) -> None:
    """A misspelt or foreign field was dropped unsaid: a conversion task with a hotspot, or a note sent as
    "description", was stored as if they had not been sent."""
    task = {"kind": "conversion", "commune_code": "10507", "year": 2026}
    for extra, words in (
        ({"description": "phối hợp Đoàn Thanh niên"}, "«description»: trường không được phép"),
        ({"hotspot_id": 1}, "không gắn với điểm nóng"),
    ):
        response = client.post("/api/tasks", json={**task, **extra})
        assert response.status_code == 422 and words in response.json()["message"], response.text
    assert client.post("/api/tasks", json=task).status_code == 201


def test_a_date_of_a_body_is_written_yyyy_mm_dd(client, bearer, make_user) -> None:
    """A number is not a date: pydantic read `{"due_date": 0}` as 1970-01-01 (schemathesis found it moving a task's due
    date), and a large one as a day of 2100. Refused in Vietnamese, in a task's and a team's dates alike."""
    for value in (0, 4_102_444_800, "0"):
        response = client.post(
            "/api/tasks", json={"kind": "conversion", "commune_code": "10507", "year": 2026, "due_date": value}
        )
        assert response.status_code == 422 and "YYYY-MM-DD" in response.json()["detail"], response.text
    client.headers.update(bearer(make_user("quan-tri", "admin")))
    response = client.post("/api/teams", json={"name": "Tổ số", "communes": ["10507"], "valid_from": 4_102_444_800})
    assert response.status_code == 422 and "YYYY-MM-DD" in response.json()["detail"], response.text


def test_a_nul_character_in_a_text_is_refused_by_its_field(client) -> None:
    """PostgreSQL cannot store NUL: the database's refusal said only "invalid value"; the field now says why
    (schemathesis sent one in a task comment)."""
    body = {"kind": "conversion", "commune_code": "10507", "year": 2026, "note": "ghi chú\x00"}
    response = client.post("/api/tasks", json=body)
    assert response.status_code == 422, response.text
    assert "NUL" in response.json()["detail"] and response.json()["errors"][0]["loc"][-1] == "note"


#: A closing group in parentheses without a Vietnamese letter: an English gloss (or an English message) in `message`.
ENGLISH_GLOSS = re.compile(r"\([^()]*[A-Za-z]{3}[^()]*\)\s*$")


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/api/tasks/1/comments", {"note": "a\x00b"}),
        ("get", "/api/incidents?from=01/02/2026", None),
        ("get", "/api/incidents?from=1800-01-01", None),
        ("patch", "/api/tasks/1", {"due_date": "1800-01-01", "version": 1}),
        ("post", "/api/tasks/1/comments", b'{"note": "x", "version": NaN}'),
        ("post", "/api/tasks/1/comments", b'{"note": "\\ud800"}'),
        ("post", "/api/classifications/2026/approve", {"run_id": 2, "last_override_at": "not-a-date"}),
    ],
)
def test_a_refusals_message_carries_no_english_gloss(client, make_user, bearer, method, path, body) -> None:
    """`message`, what the pages show, is the Vietnamese alone; `detail` may keep the English gloss of a validator's
    or the JSON check's own text («(date must be written YYYY-MM-DD)», «(invalid JSON: NaN is not a JSON number)»
    had reached `message`), and a pydantic error without its Vietnamese template gave «(Input should be …)»."""
    client.headers.update(bearer(make_user("tham-muu-gloss", "planner")) if "classifications" in path else {})
    sent = {"content": body, "headers": {"Content-Type": "application/json"}} if isinstance(body, bytes) else {}
    response = client.request(method, path, json=None if isinstance(body, bytes) else body, **sent)
    refused = response.json()
    assert 400 <= response.status_code < 500 and refused["code"] in ("validation_error", "invalid_json"), refused
    assert not ENGLISH_GLOSS.search(refused["message"]) and not re.search(r"\(\w+ \w+ \w+[^()]*\)", refused["message"])
    assert refused["message"] in refused["detail"] or ";" in refused["message"], refused


def test_a_bad_token_or_csrf_header_is_refused_in_vietnamese_alone(client) -> None:
    """The refusals of a bad token and of a missing CSRF header say the English reason in `detail` only."""
    expired = client.get("/api/auth/me", headers={"Authorization": "Bearer not-a-token"}).json()
    assert expired["message"] == "phiên đăng nhập không hợp lệ hoặc đã hết hạn"
    assert expired["detail"] == f"{expired['message']} (invalid or expired token)"
    forged = client.post(
        "/api/auth/logout", headers={"Authorization": "", "Cookie": "diaban_session=x; diaban_csrf=y"}
    ).json()
    assert forged["message"] == "thiếu mã chống giả mạo yêu cầu"
    assert forged["detail"] == f"{forged['message']} (missing or wrong CSRF token)"


@pytest.mark.parametrize(
    "kind",
    ["datetime_from_date_parsing", "datetime_type", "date_from_datetime_inexact", "string_unicode", "multiple_of"],
)
def test_common_pydantic_errors_have_a_vietnamese_template(kind: str) -> None:
    """A timestamp that is not one («not-a-date») gave «giá trị không hợp lệ (Input should be a valid datetime …)»."""
    said = message_vi({"type": kind, "msg": "Input should be something", "ctx": {"multiple_of": 5}})
    assert "Input" not in said and not said.startswith("giá trị không hợp lệ"), said


@pytest.mark.parametrize("path", ["/api/incidents?from=2026-02-30", "/api/incidents?to=2025-13-01"])
def test_a_day_that_does_not_exist_is_refused_as_such(client, path: str) -> None:
    """Written YYYY-MM-DD, 30 February is refused because it does not exist, as the command line says (it was told
    «phải là ngày dạng yyyy-mm-dd», the very form it was written in)."""
    refused = client.get(path).json()
    assert "ngày không tồn tại" in refused["message"] and "yyyy-mm-dd" not in refused["message"].lower(), refused


def test_a_truncated_json_body_is_refused_by_where_it_breaks(client) -> None:
    """Pydantic gives the character where a JSON body breaks as its ``loc``: it was shown as «mục 29», an item."""
    body = b'{"to":"verified","version":2'
    response = client.post("/api/tasks/1/transitions", content=body, headers={"Content-Type": "application/json"})
    refused = response.json()
    assert response.status_code == 422 and refused["errors"][0]["type"] == "json_invalid"
    assert refused["message"] == "dữ liệu gửi lên không hợp lệ — JSON không hợp lệ ở ký tự 29", refused
