"""Photo evidence on progress notes: size cap, type by magic bytes, location removed unless kept, served only to
users who may see the task."""

import io
import random
from urllib.parse import quote

import pytest
from PIL import Image
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from gis.io.photos import GPS_IFD, accept_photo, sniff
from models.errors import InvalidInput

AREA_A, AREA_B = "10507", "10525"
GPS = {1: "N", 2: (20.0, 51.0, 30.0), 3: "E", 4: (106.0, 41.0, 12.0)}


def photo(fmt: str = "JPEG", size: tuple[int, int] = (64, 48), gps: bool = True) -> bytes:
    """A small photo with a camera model and (optionally) a GPS position in its EXIF."""
    exif = Image.Exif()
    exif[0x0110] = "Camera DT-1"
    if gps:
        exif[GPS_IFD] = GPS
    buffer = io.BytesIO()
    Image.new("RGB", size, (180, 40, 40)).save(buffer, fmt, exif=exif.tobytes())
    return buffer.getvalue()


def location(data: bytes) -> dict:
    with Image.open(io.BytesIO(data)) as image:
        return dict(image.getexif().get_ifd(GPS_IFD))


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_location_is_removed_without_touching_the_pixels(fmt: str) -> None:
    original = photo(fmt)
    stripped = accept_photo(original, max_bytes=2**20, keep_location=False)
    assert stripped.had_location and not stripped.location_kept and location(stripped.content) == {}
    with Image.open(io.BytesIO(original)) as a, Image.open(io.BytesIO(stripped.content)) as b:
        assert a.tobytes() == b.tobytes() and b.getexif()[0x0110] == "Camera DT-1"
    kept = accept_photo(original, max_bytes=2**20, keep_location=True)
    assert kept.location_kept and kept.content == original and location(kept.content)


def test_size_type_and_damage_are_refused() -> None:
    with pytest.raises(InvalidInput, match="ảnh quá lớn"):
        accept_photo(photo(size=(400, 300)), max_bytes=500, keep_location=False)
    with pytest.raises(InvalidInput, match="chỉ nhận ảnh JPEG, PNG hoặc WebP"):
        accept_photo(b"GIF89a" + b"\x00" * 100, max_bytes=2**20, keep_location=False)
    with pytest.raises(InvalidInput, match="chỉ nhận ảnh"):
        accept_photo(b"<svg xmlns='http://www.w3.org/2000/svg'/>", max_bytes=2**20, keep_location=False)
    with pytest.raises(InvalidInput, match="hỏng"):
        accept_photo(photo()[:-200], max_bytes=2**20, keep_location=False)
    with pytest.raises(InvalidInput, match="không khớp|hỏng"):  # JPEG magic bytes, PNG body
        accept_photo(b"\xff\xd8\xff" + photo("PNG"), max_bytes=2**20, keep_location=False)
    assert sniff(photo("WEBP")) == "WEBP" and sniff(b"") is None


def _damaged_tiff(data: bytes) -> bytes:
    """The photo with its EXIF block's TIFF header broken (byte order «MX» / «IX»): the pixels still decode."""
    return data.replace(b"MM\x00*", b"MX\x00*", 1).replace(b"II*\x00", b"IX*\x00", 1)


@pytest.mark.parametrize(
    ("made", "keep"),
    [
        (lambda: photo("PNG") + b"\x00\x00", False),  # a chunk cut short after the image
        (lambda: photo("WEBP") + b"\x00\x00", False),
        (lambda: _damaged_tiff(photo("JPEG")), False),
        (lambda: _damaged_tiff(photo("WEBP")), False),
        (lambda: _damaged_tiff(photo("WEBP")), True),
    ],
)
def test_a_photo_whose_pixels_decode_but_whose_metadata_is_damaged_is_refused(made, keep: bool) -> None:
    """Found by fuzzing: the location check and its removal raised struct.error or SyntaxError (a 500 of the photo
    route) on metadata the image decoder never reads."""
    with pytest.raises(InvalidInput, match="tệp ảnh hỏng: không đọc được thông tin kèm ảnh"):
        accept_photo(made(), max_bytes=2**20, keep_location=keep)


@pytest.fixture
def teams(client, make_team, make_user, make_hotspot, bearer) -> dict:
    """Team A with a task in progress; team B elsewhere; a planner."""
    a, b = make_team("Tổ A", [AREA_A]), make_team("Tổ B", [AREA_B])
    headers = {"A": bearer(make_user("to-a", "team", a)), "B": bearer(make_user("to-b", "team", b))}
    hotspot = make_hotspot(AREA_A)
    client.post(f"/api/hotspots/{hotspot}/transitions", json={"to": "verified", "version": 1})
    task = client.post("/api/tasks", json={"kind": "suppression", "hotspot_id": hotspot, "team_id": a}).json()
    client.post(f"/api/tasks/{task['id']}/transitions", json={"to": "in_progress", "version": 2}, headers=headers["A"])
    return {"task": task["id"], "headers": headers, "planner": bearer(make_user("tm", "planner"))}


def upload(client, task_id: int, data: bytes, headers: dict, keep: bool = False, note: str = "Đã niêm phong"):
    return client.post(
        f"/api/tasks/{task_id}/photos",
        files={"photo": ("anh.jpg", data, "image/jpeg")},
        data={"note": note, "keep_location": str(keep).lower()},
        headers=headers,
    )


def test_a_team_attaches_a_photo_that_another_team_cannot_fetch(client, teams, conn) -> None:
    task, a, b = teams["task"], teams["headers"]["A"], teams["headers"]["B"]
    sent = upload(client, task, photo(), a)
    assert sent.status_code == 201, sent.json()
    body = sent.json()
    assert (body["had_location"], body["location_kept"], body["media_type"]) == (True, False, "image/jpeg")
    path = f"/api/tasks/{task}/photos/{body['id']}"
    mine = client.get(path, headers=a)
    assert mine.status_code == 200 and mine.headers["content-type"] == "image/jpeg" and location(mine.content) == {}
    assert mine.headers["x-content-type-options"] == "nosniff" and "private" in mine.headers["cache-control"]
    # Saved under its Vietnamese name by a browser (RFC 5987), its plain-letter one by an older client.
    n = body["id"]
    assert mine.headers["content-disposition"] == (
        f"inline; filename=\"nhiem-vu-{task}-anh-{n}.jpeg\"; filename*=UTF-8''" + quote(f"nhiệm-vụ-{task}-ảnh-{n}.jpeg")
    )
    assert client.get(path, headers=b).status_code == 404  # another team: as if it did not exist
    assert upload(client, task, photo(), b).status_code == 404
    assert client.get(path).status_code == 200 and client.get(path, headers=teams["planner"]).status_code == 200

    kept = upload(client, task, photo(), a, keep=True).json()
    assert kept["location_kept"] and location(client.get(f"/api/tasks/{task}/photos/{kept['id']}", headers=a).content)

    detail = client.get(f"/api/tasks/{task}", headers=a).json()
    notes = [e for e in detail["events"] if e["event"] == "comment"]
    assert [p["event_id"] for p in detail["photos"]] == [n["id"] for n in notes]
    assert [p["location_kept"] for p in detail["photos"]] == [False, True] and notes[0]["note"] == "Đã niêm phong"
    for statement in ("UPDATE task_photos SET content = 'x'", "DELETE FROM task_photos"):  # the app's role may not
        with pytest.raises(DBAPIError, match="permission denied"), conn.begin_nested():
            conn.execute(text(statement))


def test_two_photos_in_one_form_are_refused_not_the_last_one_kept(client, teams, conn) -> None:
    two = client.post(
        f"/api/tasks/{teams['task']}/photos",
        files=[("photo", ("a.jpg", photo(), "image/jpeg")), ("photo", ("b.jpg", photo(), "image/jpeg"))],
        headers=teams["headers"]["A"],
    )
    assert two.status_code == 422 and two.json()["code"] == "repeated_form_part", two.text
    assert "«photo» 2 lần" in two.json()["message"]
    assert conn.execute(text("SELECT count(*) FROM task_photos")).scalar_one() == 0


def test_a_phone_photo_of_several_megabytes_is_taken(client, teams) -> None:
    """A phone's camera writes 2-5 MB: more than the 1 MB of a JSON body, within DIABAN_PHOTO_MAX_MB (8)."""
    noise = Image.frombytes("RGB", (2000, 1500), random.Random(7).randbytes(2000 * 1500 * 3))
    buffer = io.BytesIO()
    noise.save(buffer, "JPEG", quality=90)
    assert 2**21 < len(buffer.getvalue()) < client.app.state.photo_max_bytes
    sent = upload(client, teams["task"], buffer.getvalue(), teams["headers"]["A"])
    assert sent.status_code == 201, sent.json()
    assert (sent.json()["width"], sent.json()["height"]) == (2000, 1500)


def test_refused_uploads_leave_nothing(client, teams, conn) -> None:
    task, a = teams["task"], teams["headers"]["A"]
    client.app.state.photo_max_bytes = 1000
    too_big = upload(client, task, photo(size=(600, 400)), a)
    assert too_big.status_code == 400 and "ảnh quá lớn" in too_big.json()["detail"]
    client.app.state.photo_max_bytes = 2 * 2**20
    nine = upload(client, task, b"\xff\xd8\xff" + bytes(9 * 2**20), a)  # the whole file's size, not the part read
    assert nine.json()["message"] == "ảnh quá lớn: 9 MB, tối đa 2 MB"
    client.app.state.photo_max_bytes = 2**20
    fake = upload(client, task, b"<html><script>alert(1)</script></html>", a)
    assert fake.status_code == 400 and "JPEG, PNG hoặc WebP" in fake.json()["detail"]
    assert conn.execute(text("SELECT count(*) FROM task_photos")).scalar_one() == 0
    assert conn.execute(text("SELECT count(*) FROM task_events WHERE event = 'comment'")).scalar_one() == 0


def test_a_history_thumbnail_is_a_small_upright_preview_without_the_place(client, teams) -> None:
    """A history's thumbnail fetched the whole photo (several MB on a phone's weak network, for 160 px): its preview is
    a small JPEG, turned as the photo's EXIF says (a phone held upright writes a landscape image and «rotate 90°»), with
    no metadata even when the team kept the place in the photo; on the photo's terms (another team: 404)."""
    a, b, task = teams["headers"]["A"], teams["headers"]["B"], teams["task"]
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to show
    exif[GPS_IFD] = GPS
    buffer = io.BytesIO()
    noise = Image.frombytes("RGB", (2000, 1500), random.Random(3).randbytes(2000 * 1500 * 3))
    noise.save(buffer, "JPEG", quality=90, exif=exif.tobytes())
    sent = upload(client, task, buffer.getvalue(), a, keep=True).json()
    path = f"/api/tasks/{task}/photos/{sent['id']}/preview"
    small = client.get(path, headers=a)
    assert small.status_code == 200 and small.headers["content-type"] == "image/jpeg", small.text[:200]
    assert small.headers["x-content-type-options"] == "nosniff" and "private" in small.headers["cache-control"]
    assert len(small.content) < 100_000 < 2**21 < len(buffer.getvalue())
    with Image.open(io.BytesIO(small.content)) as picture:
        assert picture.size == (240, 320)  # upright: 1500 × 2000 shown, fitted in 320 px
        assert dict(picture.getexif()) == {} and "exif" not in picture.info
    assert client.get(path, headers=b).status_code == 404
    assert client.get(f"/api/tasks/{task}/photos/999999/preview", headers=a).status_code == 404


def test_a_photo_just_over_the_limit_is_not_told_it_is_the_limit() -> None:
    """8.02 MB over 8 MB read «ảnh quá lớn: 8 MB, tối đa 8 MB»: the size over a limit is rounded up."""
    with pytest.raises(InvalidInput, match="ảnh quá lớn: 8,1 MB, tối đa 8 MB "):
        accept_photo(b"\xff\xd8\xff" + bytes(8 * 2**20 + 20_000), max_bytes=8 * 2**20, keep_location=False)
