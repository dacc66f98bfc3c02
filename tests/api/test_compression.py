"""Large answers go gzip-compressed to a client that accepts it (api.app.COMPRESS_FROM_BYTES); small ones as they are."""

import gzip

from fastapi.testclient import TestClient

from api.app import COMPRESS_FROM_BYTES


def test_a_large_answer_goes_compressed_to_a_client_that_asks_and_plain_to_one_that_does_not(
    client: TestClient,
) -> None:
    plain = client.get("/api/communes", headers={"Accept-Encoding": "identity"})
    packed = client.get("/api/communes", headers={"Accept-Encoding": "gzip, deflate"})
    assert plain.status_code == packed.status_code == 200
    assert "content-encoding" not in plain.headers
    assert int(plain.headers["content-length"]) == len(plain.content) > COMPRESS_FROM_BYTES
    assert packed.headers["content-encoding"] == "gzip"
    assert "accept-encoding" in packed.headers["vary"].lower()  # a shared cache keeps the two apart
    assert int(packed.headers["content-length"]) < len(plain.content) / 3  # 114 communes: 2.0 MB → 0.63 MB
    assert packed.json() == plain.json()  # the client decodes it to the same document


def test_a_small_answer_goes_as_it_is(client: TestClient) -> None:
    answer = client.get("/health", headers={"Accept-Encoding": "gzip"})
    assert answer.status_code == 200
    assert "content-encoding" not in answer.headers


def test_the_pages_scripts_go_compressed(client: TestClient) -> None:
    script = client.get("/static/vendor/leaflet/leaflet.js", headers={"Accept-Encoding": "gzip"})
    assert script.status_code == 200
    assert script.headers["content-encoding"] == "gzip"
    assert "L.version" in script.text or "Leaflet" in script.text


def test_a_cached_map_answer_is_compressed_harder_once_than_on_every_request(client: TestClient) -> None:
    """The communes, the classifications and the other cached answers are kept compressed at api.cache.PACK_LEVEL,
    once when built, instead of at level 1 on the way out of every request: a fifth fewer bytes on a slow link."""
    plain = client.get("/api/communes?simplify_m=20", headers={"Accept-Encoding": "identity"})
    packed = client.get("/api/communes?simplify_m=20", headers={"Accept-Encoding": "gzip"})
    assert plain.status_code == packed.status_code == 200 and packed.headers["content-encoding"] == "gzip"
    assert int(packed.headers["content-length"]) < 0.9 * len(gzip.compress(plain.content, 1))
    assert packed.json() == plain.json()
    again = client.get("/api/communes?simplify_m=20", headers={"If-None-Match": packed.headers["etag"]})
    assert again.status_code == 304
