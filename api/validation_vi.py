"""Request validation errors and the framework's own refusals in Vietnamese: pydantic's English messages replaced by their Vietnamese wording.

Each error type pydantic reports has a Vietnamese template (with the constraint values from its context);
field names are shown by their Vietnamese labels. An error type without a template keeps a generic
Vietnamese sentence and its English message in parentheses, so no answer is ever English-only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from models import vocabulary
from models.vocabulary import FIELD_LABELS, QUERY_FIELD_LABELS, vietnamese_reason

#: Vocabulary code → Vietnamese label (a code shared by two vocabularies keeps the first label).
_LABEL_OF: dict[str, str] = {}
for _enum in vars(vocabulary).values():
    if isinstance(_enum, type) and issubclass(_enum, vocabulary.Vocabulary) and _enum is not vocabulary.Vocabulary:
        for _code, _label in _enum.labels().items():
            _LABEL_OF.setdefault(_code, _label)

_TEMPLATES: Mapping[str, str] = {
    "missing": "thiếu, bắt buộc phải có",
    "string_too_short": "cần ít nhất {min_length} ký tự",
    "string_too_long": "tối đa {max_length} ký tự",
    "too_short": "cần ít nhất {min_length} phần tử",
    "too_long": "tối đa {max_length} phần tử",
    "greater_than": "phải lớn hơn {gt}",
    "greater_than_equal": "phải lớn hơn hoặc bằng {ge}",
    "less_than": "phải nhỏ hơn {lt}",
    "less_than_equal": "phải nhỏ hơn hoặc bằng {le}",
    "int_parsing": "phải là số nguyên",
    "int_type": "phải là số nguyên",
    "int_from_float": "phải là số nguyên",
    "float_parsing": "phải là số",
    "float_type": "phải là số",
    "finite_number": "phải là số hữu hạn",
    "bool_parsing": "phải là true hoặc false",
    "bool_type": "phải là true hoặc false",
    "string_type": "phải là chuỗi ký tự",
    "string_pattern_mismatch": "không đúng dạng cho phép",
    "string_unicode": "phải là văn bản Unicode hợp lệ",
    "int_parsing_size": "số nguyên quá lớn",
    "multiple_of": "phải là bội số của {multiple_of}",
    "none_required": "phải để trống (null)",
    "date_parsing": "phải là ngày dạng yyyy-mm-dd",
    "date_from_datetime_parsing": "phải là ngày dạng yyyy-mm-dd",
    "date_type": "phải là ngày dạng yyyy-mm-dd",
    "date_from_datetime_inexact": "phải là ngày, không kèm giờ",
    "datetime_parsing": "phải là thời điểm ISO 8601",
    "datetime_from_date_parsing": "phải là thời điểm ISO 8601",
    "datetime_type": "phải là thời điểm ISO 8601",
    "datetime_object_invalid": "phải là thời điểm ISO 8601",
    "timezone_naive": "phải là thời điểm không kèm múi giờ",
    "timezone_aware": "phải là thời điểm ISO 8601 có múi giờ (như 2025-12-31T17:00:00Z)",
    "enum": "phải là một trong: {expected}",
    "literal_error": "phải là một trong: {expected}",
    "dict_type": "phải là đối tượng JSON",
    "model_attributes_type": "phải là đối tượng JSON",
    "model_type": "phải là đối tượng JSON",
    "list_type": "phải là danh sách",
    "json_invalid": "JSON không hợp lệ",
    "json_type": "JSON không hợp lệ",
    "extra_forbidden": "trường không được phép",
    "uuid_parsing": "phải là mã UUID",
    "value_error": "{error}",
    "assertion_error": "{error}",
}


def field_label(loc: tuple[str | int, ...]) -> str:
    """Where an error is, in Vietnamese: the field's label (``body.note`` → ``ghi chú``; a query's parameter by
    QUERY_FIELD_LABELS: ``query.to`` → ``đến ngày``), items by position."""
    labels = QUERY_FIELD_LABELS if loc and loc[0] in ("query", "path") else FIELD_LABELS
    parts = [p for p in loc if p not in ("body", "query", "path", "header", "cookie")] or list(loc)
    shown = []
    for part in parts:
        shown.append(f"mục {part + 1}" if isinstance(part, int) else labels.get(str(part), str(part)))
    return " › ".join(shown)


def invalid_field(error: Mapping[str, Any], said: str) -> str:
    """One invalid field as a refusal names it: its label, then ``said`` (what is wrong). A body that is not JSON is
    named by where it breaks: pydantic puts the character's offset where an item's index stands («mục 29» read as
    the 29th item)."""
    loc = tuple(error.get("loc", ()))
    if error.get("type") == "json_invalid" and loc and isinstance(loc[-1], int):
        return f"{said} ở ký tự {loc[-1] + 1}"
    if error.get("type") == "extra_forbidden" and loc:  # the client's own name, quoted as sent: it has no label
        return f"«{loc[-1]}»: {said}"
    return f"{field_label(loc)}: {said}"


def message_vi(error: Mapping[str, Any]) -> str:
    """One pydantic error as a Vietnamese sentence (the English message follows only for unknown error types)."""
    kind = str(error.get("type", ""))
    context = dict(error.get("ctx") or {})
    if kind in ("value_error", "assertion_error"):
        text = str(error.get("msg", ""))
        for prefix in ("Value error, ", "Assertion failed, "):
            text = text.removeprefix(prefix)
        if text.startswith("Expected UploadFile"):  # a form part sent as text, without a file name
            return "phải là một tệp (gửi kèm tên tệp)"
        context["error"] = text
    if kind in ("enum", "literal_error") and "expected" in context:
        return f"phải là một trong: {_choices(str(context['expected']))}"
    template = _TEMPLATES.get(kind)
    if template is None:
        return f"giá trị không hợp lệ ({error.get('msg', kind)})"
    try:
        return template.format(**{k: _shown(v) for k, v in context.items()})
    except (KeyError, IndexError):
        return template.split("{")[0].strip() or "giá trị không hợp lệ"


def _choices(expected: str) -> str:
    """Allowed values by their Vietnamese labels when they belong to the vocabulary, the codes in parentheses."""
    codes = re.findall(r"'([^']*)'", expected) or [expected]
    labels = [_LABEL_OF.get(code, code) for code in codes]
    if labels == codes:
        return ", ".join(codes)
    return f"{'; '.join(labels)} ({', '.join(codes)})"


def _shown(value: Any) -> str:
    """A bound or an input as a reader writes it: a whole float without its ".0" (a limit of a float setting is 0.0)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).replace("'", "")


#: What the HTTP framework itself says, by status, when a request never reaches a route.
_STATUS_VI: Mapping[int, str] = {
    400: "yêu cầu không đọc được",
    401: "chưa đăng nhập hoặc phiên đã hết hạn",
    403: "không có quyền",
    404: "không tìm thấy đường dẫn này",
    405: "phương thức không được phép với đường dẫn này",
    406: "không có định dạng trả lời phù hợp",
    413: "nội dung gửi lên quá lớn",
    415: "kiểu nội dung không được hỗ trợ",
    422: "dữ liệu gửi lên không hợp lệ",
    429: "quá nhiều yêu cầu, hãy thử lại sau",
}
_KNOWN_VI: Mapping[str, str] = {
    "There was an error parsing the body": "nội dung gửi lên không đọc được (không phải JSON hoặc biểu mẫu hợp lệ)",
    "Not authenticated": "chưa đăng nhập",
}
#: Starlette's refusals of a multipart form (an upload, a photo), by pattern, so that a page says what is wrong with it.
_MULTIPART_VI: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r'The Content-Disposition header field "name" must be provided\.'), "biểu mẫu có một phần không tên"),
    (re.compile(r"Missing boundary in multipart\."), "biểu mẫu thiếu dấu ranh giới (boundary) giữa các phần"),
    (re.compile(r"Invalid multipart data\."), "biểu mẫu gửi lên bị hỏng hoặc bị cắt giữa chừng"),
    (re.compile(r"(?:Part|Field) exceeded maximum size of (\d+)KB\."), "một trường của biểu mẫu dài quá {} KB"),
    (re.compile(r"Too many files\. Maximum number of files is (\d+)\."), "quá nhiều tệp trong một lần gửi (tối đa {})"),
    (re.compile(r"Too many fields\. Maximum number of fields is (\d+)\."), "biểu mẫu có quá nhiều trường (tối đa {})"),
)
_VIETNAMESE_LETTERS = set("đĐơƠưƯăĂâÂêÊôÔàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ")


def http_detail_vi(status: int, detail: str, english: bool = True) -> str:
    """A framework refusal in Vietnamese: our own messages pass unchanged, English ones are translated (followed by
    the English detail unless ``english`` is false: what a page shows, which also loses our own messages' English
    gloss, as «… (invalid or expired token)»)."""
    if _VIETNAMESE_LETTERS & set(detail):
        return detail if english else vietnamese_reason(detail)
    if detail in _KNOWN_VI:
        return _KNOWN_VI[detail]
    for pattern, vietnamese in _MULTIPART_VI:
        if found := pattern.fullmatch(detail):
            said = vietnamese.format(*found.groups())
            return f"{said} ({detail})" if english else said
    status_vi = _STATUS_VI.get(status, "yêu cầu bị từ chối")
    return f"{status_vi} ({detail})" if english else status_vi
