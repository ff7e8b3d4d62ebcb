"""deploy/nginx.conf as shipped, run by a real nginx over TLS in front of a real server.

The site file is only rewritten where a test must differ from a server: ports, certificate,
static folder and upstream address. The client connects from 127.0.0.2, so the address the
app records can be told apart from nginx's own 127.0.0.1 and from a spoofed X-Forwarded-For.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import ssl
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from mailbox.db.database import open_database
from tests.helpers import GOOD_LETTER, csrf_from
from tests.live import ROOT, free_port, running_server, server_environment

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed"),
]

SITE = ROOT / "deploy" / "nginx.conf"
CLIENT_ADDRESS = "127.0.0.2"
SPOOFED = "203.0.113.9"


@dataclass(frozen=True)
class Site:
    https: str
    http: str
    tls: ssl.SSLContext


def _certificate(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]
        + ["-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"]
        + ["-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    return cert, key


def render(folder: Path, app_port: int, http_port: int, https_port: int) -> Path:
    """deploy/nginx.conf with test ports and paths, inside a main config nginx runs unprivileged."""
    cert, key = _certificate(folder)
    site = SITE.read_text()
    for old, new in {
        "listen [::]:80;": "",
        "listen [::]:443 ssl http2;": "",
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "listen 443 ssl http2;": f"listen 127.0.0.1:{https_port} ssl http2;",
        "server 127.0.0.1:8000;": f"server 127.0.0.1:{app_port};",
        "/etc/ssl/mailbox/fullchain.pem": str(cert),
        "/etc/ssl/mailbox/privkey.pem": str(key),
        "/opt/mailbox/static/": f"{ROOT}/static/",
    }.items():
        assert old in site, f"deploy/nginx.conf no longer contains {old!r}"
        site = site.replace(old, new)
    (folder / "site.conf").write_text(site)
    temp = {name: folder / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
    main = folder / "nginx.conf"
    main.write_text(
        ("user root;\n" if os.geteuid() == 0 else "")  # workers must read the tmp folder
        + f"daemon off;\nworker_processes 1;\npid {folder}/nginx.pid;\n"
        f"error_log {folder}/error.log info;\n"
        "events { worker_connections 256; }\n"
        "http {\n"
        "  include /etc/nginx/mime.types;\n  default_type application/octet-stream;\n"
        f"  access_log {folder}/access.log;\n"
        + "".join(f"  {name}_temp_path {path};\n" for name, path in temp.items()).replace(
            "body_temp", "client_body_temp"
        )
        + f"  include {folder}/site.conf;\n}}\n"
    )
    return main


def nginx(config: Path, *args: str) -> list[str]:
    return ["nginx", "-p", str(config.parent), "-e", str(config.parent / "error.log"),
            "-c", str(config), *args]  # fmt: skip


def wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 10
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"nginx exited: {log.read_text()}")
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
            return
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise RuntimeError("nginx did not start within 10 s") from None
            time.sleep(0.05)


@pytest.fixture
def site(database_url: str, tmp_path: Path) -> Iterator[Site]:
    app_port, http_port, https_port = free_port(), free_port(), free_port()
    config = render(tmp_path, app_port, http_port, https_port)
    checked = subprocess.run(nginx(config, "-t"), capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stderr
    env = server_environment(database_url, tmp_path / "var", trusted_proxies="127.0.0.1")
    with running_server(env, port=app_port, log=tmp_path / "server.log"):
        process = subprocess.Popen(nginx(config), stderr=subprocess.DEVNULL)
        try:
            wait_for_port(http_port, process, tmp_path / "error.log")
            yield Site(
                https=f"https://127.0.0.1:{https_port}",
                http=f"http://127.0.0.1:{http_port}",
                tls=ssl.create_default_context(cafile=str(tmp_path / "cert.pem")),
            )
        finally:
            process.terminate()
            process.wait(timeout=10)


def client(site: Site) -> httpx.AsyncClient:
    transport = httpx.AsyncHTTPTransport(verify=site.tls, local_address=CLIENT_ADDRESS)
    return httpx.AsyncClient(base_url=site.https, transport=transport, timeout=10)


def cookie_line(response: httpx.Response, name: str) -> str:
    lines = [line for line in response.headers.get_list("set-cookie") if line.startswith(name)]
    assert lines, f"no {name} cookie in {response.headers}"
    return lines[0]


async def test_plain_http_is_redirected_to_https(site: Site) -> None:
    async with httpx.AsyncClient() as plain:
        response = await plain.get(f"{site.http}/write/complaint?x=1")
    assert response.status_code == 301
    assert response.headers["location"].startswith("https://")
    assert response.headers["location"].endswith("/write/complaint?x=1")


async def test_static_files_come_from_nginx_with_cache_and_security_headers(site: Site) -> None:
    async with client(site) as browser:
        response = await browser.get("/static/css/site.css", headers={"accept-encoding": "gzip"})
    assert response.status_code == 200
    assert response.text == (ROOT / "static/css/site.css").read_text()
    assert response.headers["cache-control"] == "public, max-age=3600"
    assert response.headers["strict-transport-security"] == "max-age=31536000"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-encoding"] == "gzip"
    # Served by nginx: the app would have added its Content-Security-Policy.
    assert "content-security-policy" not in response.headers


async def test_a_letter_through_nginx_records_the_real_client_with_secure_cookies(
    site: Site, database_url: str
) -> None:
    async with client(site) as browser:
        form = await browser.get("/write/complaint")
        assert form.status_code == 200
        assert form.headers["strict-transport-security"] == "max-age=31536000"
        assert "unsafe-inline" not in form.headers["content-security-policy"]
        csrf = cookie_line(form, "mb_csrf")
        assert "Secure" in csrf and "HttpOnly" in csrf
        sent = await browser.post(
            "/write/complaint",
            data={**GOOD_LETTER, "csrf_token": csrf_from(form.text)},
            headers={"x-forwarded-for": SPOOFED, "origin": site.https},
        )
    assert sent.status_code == 303, sent.text
    assert "Secure" in cookie_line(sent, "mb_receipt")
    db = open_database(database_url)
    await db.connect()
    try:
        recorded = await db.fetch_value("SELECT client_ip FROM letters")
    finally:
        await db.close()
    assert recorded == CLIENT_ADDRESS


async def test_too_large_bodies_are_refused_by_nginx(site: Site) -> None:
    """256 KiB for forms of text; the forms that take attachments get 51 MB (5 × 10 MB + the
    text, the default settings), and the app checks the files themselves."""
    async with client(site) as browser:
        text_form = await browser.post("/track", content=b"x" * (300 * 1024))
        upload = await browser.post("/write/complaint", content=b"x" * (52 * 1024 * 1024))
    for response in (text_form, upload):
        assert response.status_code == 413
        assert "content-security-policy" not in response.headers  # nginx answered, not the app


async def test_bursts_of_posts_are_limited_but_reading_is_not(site: Site) -> None:
    async with client(site) as browser:
        posts = await asyncio.gather(*(browser.post("/track", data={}) for _ in range(20)))
        pages = await asyncio.gather(*(browser.get("/") for _ in range(20)))
    statuses = [response.status_code for response in posts]
    assert statuses.count(429) >= 20 - 11, statuses  # burst 10 plus the one the rate allows
    assert 429 not in [response.status_code for response in pages]
