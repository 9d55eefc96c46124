"""`segcli serve`'s /docs and /redoc work offline: every asset they load is served by the app itself."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.test_api import Api

_URL = re.compile(r"""(?:src|href|url)\s*[=:]\s*['"]([^'"]+)['"]""")
_EXTERNAL = re.compile(r"""https?://(?!(?:127\.0\.0\.1|localhost|testserver)[:/])[^\s'"<>)]+""")
LOOPBACK = {"127.0.0.1", "localhost", "testserver"}


@pytest.fixture
def api(tmp_path: Path) -> Api:
    return Api(tmp_path)


def asset_urls(page: str) -> list[str]:
    """The script, style, icon and spec URLs a docs page loads."""
    return [u for u in _URL.findall(page) if not u.startswith(("#", "data:"))]


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_docs_page_needs_no_token_and_loads_only_local_assets(api: Api, path: str) -> None:
    response = api.get(token=None, path=path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert "cdn." not in page
    assert _EXTERNAL.findall(page) == []  # no URL outside loopback
    urls = asset_urls(page)
    scripts = [u for u in urls if u.endswith(".js")]
    assert scripts, page  # the page does load its UI from somewhere: here
    for url in urls:
        parts = urlsplit(url)
        assert parts.scheme in ("", "http"), url
        assert parts.hostname in (None, *LOOPBACK), url
        asset = api.get(token=None, path=parts.path)
        assert asset.status_code == 200, url
        kind = asset.headers["content-type"]
        if url.endswith(".js"):
            assert kind.startswith(("application/javascript", "text/javascript")), (url, kind)
            assert len(asset.content) > 100_000  # the real bundle, not a stub
        elif url.endswith(".css"):
            assert kind.startswith("text/css"), (url, kind)
            assert b"swagger-ui" in asset.content
        elif url.endswith(".png"):
            assert kind == "image/png", (url, kind)
            assert asset.content.startswith(b"\x89PNG"), url
        elif url.endswith("openapi.json"):
            assert asset.json()["paths"], url


def test_swagger_page_uses_the_bundle_and_the_spec(api: Api) -> None:
    page = api.get(token=None, path="/docs").text
    urls = asset_urls(page)
    assert any(u.endswith("/swagger-ui-bundle.js") for u in urls)
    assert any(u.endswith("/swagger-ui.css") for u in urls)
    assert "/openapi.json" in page


def test_the_report_still_needs_a_token(api: Api) -> None:
    response = api.get(token=None)
    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication credentials were not provided."}
    assert api.get().status_code == 200
