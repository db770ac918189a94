"""Network and browser signals without personal data: keyed hashes of coarse groups.

A response keeps HMAC-SHA256 (truncated to 128 bits) of the client's network prefix (the
/24 of an IPv4 address, the /48 of an IPv6 one) and of its browser family ("WeChat on
Android", "a script"), keyed like the device hash by a key derived from the app secret:
never the address, never the user-agent. Many devices behind one prefix at one point within
minutes is a *signal* for the integrity sweep, never a block: mobile carriers put thousands
of residents behind one address. The client address is ``request.remote_addr``; behind a
reverse proxy the app takes it from ``X-Forwarded-For`` (``SURVEY_TRUSTED_PROXIES``).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re

from flask import current_app

from survey.cache import cached

_CONTEXT = b"survey.network-hash.v1"

#: In-app browsers and browsers, most specific first: (pattern, family).
_APPS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"wxwork", re.I), "wecom"),
    (re.compile(r"micromessenger", re.I), "wechat"),
    (re.compile(r"dingtalk", re.I), "dingtalk"),
    (re.compile(r"alipayclient", re.I), "alipay"),
    (re.compile(r"\bqq/", re.I), "qq"),
    (re.compile(r"weibo", re.I), "weibo"),
    (re.compile(r"mqqbrowser|qqbrowser", re.I), "qqbrowser"),
    (re.compile(r"ucbrowser|ucweb", re.I), "uc"),
    (re.compile(r"baiduboxapp", re.I), "baidu"),
    (re.compile(r"huaweibrowser|heytapbrowser|miuibrowser|vivobrowser", re.I), "vendor"),
    (re.compile(r"headless|phantomjs|selenium|puppeteer|playwright", re.I), "headless"),
    (re.compile(r"edg/", re.I), "edge"),
    (re.compile(r"firefox/", re.I), "firefox"),
    (re.compile(r"chrome/|crios/", re.I), "chrome"),
    (re.compile(r"safari/", re.I), "safari"),
)
_SCRIPTS = re.compile(
    r"curl|wget|python|requests|httpx|aiohttp|okhttp|java/|go-http|node-fetch|axios|"
    r"libwww|scrapy|httpclient|postman|bot|spider|crawl",
    re.I,
)
_SYSTEMS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"harmonyos|openharmony", re.I), "harmony"),
    (re.compile(r"android", re.I), "android"),
    (re.compile(r"iphone|ipad|ipod|ios", re.I), "ios"),
    (re.compile(r"windows", re.I), "windows"),
    (re.compile(r"mac os x|macintosh", re.I), "mac"),
    (re.compile(r"linux|x11", re.I), "linux"),
)


def network_prefix(address: str | None) -> str | None:
    """The /24 (IPv4) or /48 (IPv6) network of ``address`` as text; None if unparseable."""
    if not address:
        return None
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    bits = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{bits}", strict=False))


def agent_family(user_agent: str | None) -> str:
    """A coarse browser family: app or browser, then operating system ("wechat/android")."""
    ua = (user_agent or "")[:512]
    if not ua.strip():
        return "none"
    if _SCRIPTS.search(ua) and not re.search(r"mozilla/", ua, re.I):
        return "script"
    app = next((name for pattern, name in _APPS if pattern.search(ua)), "other")
    system = next((name for pattern, name in _SYSTEMS if pattern.search(ua)), "other")
    return f"{app}/{system}"


def keyed_hash(kind: str, value: str) -> str:
    """32 hex characters of HMAC-SHA256 of ``value``, keyed per app secret and ``kind``."""
    key = _key(kind)
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:32]


def _key(kind: str) -> bytes:
    secret = str(current_app.secret_key)
    return cached(
        "serializers",
        (secret, "integrity-key", kind),
        lambda: hmac.new(secret.encode(), _CONTEXT + kind.encode(), hashlib.sha256).digest(),
    )


def client_hashes(address: str | None, user_agent: str | None) -> tuple[str | None, str]:
    """Keyed hashes of the client's network prefix (None when unknown) and browser family.

    Cached per (address, agent) in the ``clients`` cache: parsing the address and matching
    a phone's user agent against the families costs about 0.1 ms, and residents behind one
    carrier address with one phone model repeat both. Only the agent's first 512
    characters count (``agent_family``), so a long header cannot make a large entry.
    """
    agent = (user_agent or "")[:512]
    return cached(
        "clients",
        (str(current_app.secret_key), address, agent),
        lambda: _client_hashes(address, agent),
    )


def _client_hashes(address: str | None, user_agent: str) -> tuple[str | None, str]:
    prefix = network_prefix(address)
    return (
        keyed_hash("network", prefix) if prefix is not None else None,
        keyed_hash("agent", agent_family(user_agent)),
    )
