"""The client's environment, read in one place: the API key, the base URL, the proxy and the CAs.

`PromptOpsClient` reads its settings here, and so does every tool of this guide, so what a tool
reports is what the client does. Each `read_*` function returns the setting as the client will
use it, where it came from, and notes on what works but looks wrong; it raises
`ConfigurationError`, naming the variable, for what the client cannot use.

The proxy is chosen as httpx chooses it from the same variables (`HTTPS_PROXY`, `ALL_PROXY`,
`NO_PROXY`, lower case first), and the client hands httpx that choice: httpx reads nothing
from the environment itself.
"""

from __future__ import annotations

import base64
import importlib.util
import ipaddress
import os
import re
import ssl
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Final, Generic, TypeVar

import certifi
import httpx

from .errors import ConfigurationError
from .redaction import printable, redact_url

API_KEY_ENV: Final = "PROMPTOPS_API_KEY"
BASE_URL_ENV: Final = "PROMPTOPS_BASE_URL"
DEFAULT_BASE_URL: Final = "https://api.promptops.com"

T = TypeVar("T")


@dataclass(frozen=True)
class Setting(Generic[T]):
    """One setting as the client uses it."""

    value: T
    source: str
    """Where it came from: a variable (`PROMPTOPS_API_KEY`), an argument (`base_url`), or
    `default`."""
    notes: tuple[str, ...] = ()
    """It works, but looks wrong: each note says why (a tool shows them as warnings)."""


# -- the API key --------------------------------------------------------------------------


def read_api_key(environ: Mapping[str, str], api_key: object = None) -> Setting[str]:
    """The key: `api_key` if given, else `PROMPTOPS_API_KEY`, without the spaces around it
    (stripped, as a secret file's last line break must be: not a note).

    Refused (nothing is ever sent with it): missing, in quotes, or with a space, a line break,
    a control or a non-ASCII character inside, which a header cannot carry. The key has no
    other format: the API takes any such string as `Bearer <key>`.
    """
    source = "api_key" if api_key is not None else API_KEY_ENV
    key = api_key if api_key is not None else environ.get(API_KEY_ENV)
    if not isinstance(key, str) or not key.strip():
        raise ConfigurationError(
            f"No API key: pass api_key=... or set the {API_KEY_ENV} environment variable"
        )
    key = key.strip()  # a line break a secret file ends with: harmless, not a note
    notes = []
    if len(key) > 1 and key[0] in "'\"" and key[-1] == key[0]:
        raise ConfigurationError(
            f"The API key ({source}) has quotes around it (copied from a .env file?): remove "
            "them (nothing was sent)"
        )
    for position, char in enumerate(key, start=1):
        if char.isspace() or not char.isprintable() or not char.isascii():
            kind = "a space or line break" if char.isspace() else "a control or non-ASCII character"
            raise ConfigurationError(
                f"The API key ({source}) has {kind} at character {position}: copy it again, "
                "without spaces, quotes or line breaks (nothing was sent)"
            )
    if key[0] in "'\"" or key[-1] in "'\"":
        notes.append("it starts or ends with a quote: copied with part of a .env line?")
    return Setting(key, source, tuple(notes))


# -- the base URL -------------------------------------------------------------------------

_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)", re.IGNORECASE)


def read_base_url(environ: Mapping[str, str], base_url: object = None) -> Setting[str]:
    """The API root: `base_url` if given, else `PROMPTOPS_BASE_URL`, else the default.

    Refused: not http(s), no host or an invalid one (international names are checked as
    IDNA), credentials, a query or fragment, a port outside 1-65535, an empty variable.
    Noted: a path (the client adds `/v1/...` to it), and plain http to a host that is not this
    machine, which would carry the key unencrypted.
    """
    if base_url is not None:
        name, value = "base_url", base_url
    elif BASE_URL_ENV in environ:
        name, value = BASE_URL_ENV, environ[BASE_URL_ENV]
        if not value.strip():
            raise ConfigurationError(f"{BASE_URL_ENV} is empty: unset it for the default")
    else:
        return Setting(DEFAULT_BASE_URL, "default")
    url = _parse_base_url(value, name)
    notes = []
    if url.path.rstrip("/"):
        notes.append(f"it has a path ({printable(url.path, 60)}): the API root has none")
    if url.scheme == "http" and not _is_loopback(url.host):
        notes.append(
            f"plain http to {url.host}: the key and every prompt travel unencrypted; use https"
        )
    return Setting(str(url).rstrip("/"), name, tuple(notes))


def _parse_base_url(value: object, name: str) -> httpx.URL:
    shown = redact_url(value) if isinstance(value, str) else repr(value)
    example = f"an http(s) URL such as {DEFAULT_BASE_URL!r}"
    try:
        url = httpx.URL(value.strip()) if isinstance(value, str) else None
        host = url.host if url else ""  # decoded from IDNA here: it may fail
    except UnicodeError as exc:  # idna.IDNAError: not a valid international name
        raise ConfigurationError(
            f"{name} has an invalid host name ({shown!r}): {printable(str(exc), 100)}"
        ) from None
    except (httpx.InvalidURL, ValueError):
        url, host = None, ""
    if url is None or url.scheme not in ("http", "https") or not host:
        raise ConfigurationError(f"{name} must be {example}, got {shown!r}")
    if url.userinfo:
        raise ConfigurationError(
            f"{name} must not contain a user or password ({shown!r}): the client signs in with "
            "the API key"
        )
    if url.query or url.fragment:
        raise ConfigurationError(f"{name} must not have a query string or fragment, got {shown!r}")
    if url.port is not None and not 1 <= url.port <= 65535:
        raise ConfigurationError(f"{name} has port {url.port}: ports are 1 to 65535")
    if not _valid_host(url.raw_host.decode("ascii", "replace")):
        raise ConfigurationError(f"{name} has an invalid host name, got {shown!r}")
    return url


def _valid_host(host: str) -> bool:
    """An IP address, or a DNS name: dot-separated labels of letters, digits and hyphens (IDNA
    names arrive here as `xn--` labels)."""
    try:
        ipaddress.ip_address(host.strip("[]"))
        return True
    except ValueError:
        pass
    labels = host.rstrip(".").split(".")
    return len(host) <= 253 and all(_LABEL.fullmatch(label) for label in labels)


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost" or host.lower().endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


# -- the proxy ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Proxy:
    """The proxy requests to the API go through."""

    url: str = field(repr=False)
    """As set, credentials included: for httpx, never for printing (see `shown`)."""
    variable: str
    """The environment variable it came from: `HTTPS_PROXY`, `https_proxy`, `ALL_PROXY`..."""

    @property
    def shown(self) -> str:
        """The URL without credentials."""
        return redact_url(self.url)

    @property
    def address(self) -> tuple[str, int]:
        """The host and port the client connects to."""
        url = httpx.URL(self.url)
        default = {"https": 443, "socks5": 1080, "socks5h": 1080}.get(url.scheme, 80)
        return url.host, url.port or default


PROXY_SCHEMES: Final = ("http", "https", "socks5", "socks5h")


def read_proxy(environ: Mapping[str, str], base_url: str) -> Setting[Proxy | None]:
    """The proxy httpx would choose for `base_url` from these variables, or None (direct).

    As `urllib.request.getproxies` reads them (httpx uses it): any `*_proxy` variable, the
    lower-case one winning; then the proxy for the URL's scheme, else `all`, unless `NO_PROXY`
    names the host (`*` every host; `name` the host and its subdomains; `.name` subdomains
    only; an IP address or `localhost` exactly; `scheme://host` for that scheme).

    Refused: a proxy URL that does not parse, a scheme httpx has no transport for, and a SOCKS
    proxy without the `socksio` package (`pip install 'httpx[socks]'`).
    """
    proxies = _environment_proxies(environ)
    url = httpx.URL(base_url)
    if any(_matches(pattern, url) for pattern in _no_proxy_patterns(proxies)):
        name = proxies["no"][1]
        return Setting(None, name, ())
    chosen = proxies.get(url.scheme) or proxies.get("all")
    if chosen is None:
        return Setting(None, "default")
    value, variable = chosen
    proxy_url = value if "://" in value else f"http://{value}"
    shown = redact_url(proxy_url)
    try:
        parsed = httpx.URL(proxy_url)
        parsed_host = parsed.host  # decoded from IDNA here: it may fail
    except (httpx.InvalidURL, UnicodeError, ValueError) as exc:
        raise ConfigurationError(
            f"{variable} is not a proxy URL ({shown!r}): {printable(str(exc), 100)}"
        ) from None
    if parsed.scheme not in PROXY_SCHEMES:
        raise ConfigurationError(
            f"{variable} names a {parsed.scheme}:// proxy ({shown!r}): httpx supports http, "
            "https and socks5 proxies"
        )
    if not parsed_host:
        raise ConfigurationError(f"{variable} names no proxy host ({shown!r})")
    if parsed.scheme.startswith("socks") and importlib.util.find_spec("socksio") is None:
        raise ConfigurationError(
            f"{variable} names a SOCKS proxy ({shown!r}), which needs the socksio package: "
            "pip install 'httpx[socks]'"
        )
    notes = []
    if parsed.scheme == "https":
        notes.append(
            "an https:// proxy URL: most proxies speak plain HTTP on their port (http://); "
            "with https:// the TLS handshake fails with WRONG_VERSION_NUMBER"
        )
    return Setting(Proxy(proxy_url, variable), variable, tuple(notes))


def _environment_proxies(environ: Mapping[str, str]) -> dict[str, tuple[str, str]]:
    """scheme -> (value, variable), as `urllib.request.getproxies_environment` reads them:
    upper or lower case, the lower-case one winning, an empty lower-case one removing it."""
    proxies: dict[str, tuple[str, str]] = {}
    for name, value in environ.items():
        if value and name.lower().endswith("_proxy"):
            proxies[name.lower()[:-6]] = (value, name)
    if "REQUEST_METHOD" in environ:  # a CGI script: HTTP_PROXY may come from a request header
        proxies.pop("http", None)
    for name, value in environ.items():
        if name.endswith("_proxy"):  # lower case only
            if value:
                proxies[name[:-6]] = (value, name)
            else:
                proxies.pop(name[:-6], None)
    return proxies


@dataclass(frozen=True)
class _Pattern:
    scheme: str  # "" for any
    host: str  # "" for any; "*name" host and subdomains; "*.name" subdomains
    port: int | None


def _no_proxy_patterns(proxies: Mapping[str, tuple[str, str]]) -> list[_Pattern]:
    """`NO_PROXY` as httpx turns it into mounts that go direct."""
    entries = [e.strip() for e in proxies.get("no", ("", ""))[0].split(",")]
    if "*" in entries:
        return [_Pattern("", "", None)]
    patterns = []
    for entry in filter(None, entries):
        if "://" in entry:
            pattern = entry
        elif _is_ip(entry, 4) or entry.lower() == "localhost":
            pattern = f"all://{entry}"
        elif _is_ip(entry, 6):
            pattern = f"all://[{entry}]"
        else:
            pattern = f"all://*{entry}"
        try:
            url = httpx.URL(pattern)
            host = "" if url.host == "*" else url.host
        except (httpx.InvalidURL, UnicodeError, ValueError):
            continue  # httpx would fail on it: the client never sees such an entry
        scheme = "" if url.scheme == "all" else url.scheme
        patterns.append(_Pattern(scheme, host, url.port))
    return patterns


def _is_ip(entry: str, version: int) -> bool:
    try:
        return ipaddress.ip_address(entry.split("/")[0]).version == version
    except ValueError:
        return False


def _matches(pattern: _Pattern, url: httpx.URL) -> bool:
    if pattern.scheme and pattern.scheme != url.scheme:
        return False
    if pattern.port is not None and pattern.port != url.port:
        return False
    host = url.host
    if not pattern.host:
        return True
    if pattern.host.startswith("*."):
        return host.endswith(pattern.host[1:]) and len(host) > len(pattern.host) - 1
    if pattern.host.startswith("*"):
        domain = pattern.host[1:]
        return host == domain or host.endswith(f".{domain}")
    return host == pattern.host


# -- the CAs ------------------------------------------------------------------------------

FEW_CAS: Final = 10
"""A bundle with fewer certificates than this is likely only a company's CA (certifi has
over 100): every site the company's proxy does not re-sign fails with it."""


@dataclass(frozen=True)
class Trust:
    """The CAs the client trusts: `SSL_CERT_FILE`, else `SSL_CERT_DIR`, else certifi's."""

    cafile: str | None = None
    capath: str | None = None

    @property
    def shown(self) -> str:
        if self.cafile:
            return f"SSL_CERT_FILE={self.cafile}"
        if self.capath:
            return f"SSL_CERT_DIR={self.capath}"
        return "certifi's CAs"

    def count(self) -> int:
        """How many CA certificates it holds (a folder's are read only as needed: 0)."""
        return int(self.context().cert_store_stats()["x509_ca"])

    def context(self) -> ssl.SSLContext:
        """A verifying TLS context for these CAs; one per file (or folder) as it is now, shared
        by every client of the process: loading a bundle takes tens of milliseconds. A new
        client picks up a rebuilt bundle; a client already made keeps what it loaded."""
        target = self.cafile or self.capath or certifi.where()
        try:
            stat = os.stat(target)
        except OSError as exc:  # the OS's words, without the path again
            raise ConfigurationError(
                f"The CA bundle {self.shown} cannot be read: {printable(exc.strerror or str(exc))}"
            ) from None
        return _load_context(self.cafile, self.capath, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=16)
def _load_context(
    cafile: str | None, capath: str | None, mtime_ns: int, size: int
) -> ssl.SSLContext:
    """The context for a CA file or folder at one modification time (the key of the cache)."""
    if cafile:
        return ssl.create_default_context(cafile=cafile)
    if capath:
        return ssl.create_default_context(capath=capath)
    return ssl.create_default_context(cafile=certifi.where())


def read_trust(environ: Mapping[str, str]) -> Setting[Trust]:
    """The CAs the client trusts, as httpx picks them: `SSL_CERT_FILE`, else `SSL_CERT_DIR`,
    else certifi's bundle. Refused: a file that does not load, or a folder that is not one.
    Noted: a file of only a few CAs, and `REQUESTS_CA_BUNDLE` or `CURL_CA_BUNDLE` set, which
    httpx ignores."""
    cafile, capath = environ.get("SSL_CERT_FILE"), environ.get("SSL_CERT_DIR")
    notes = []
    others = [name for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE") if environ.get(name)]
    if others and not cafile:
        notes.append(f"{' and '.join(others)} set, but httpx and this client read SSL_CERT_FILE")
    if cafile:
        trust, source = Trust(cafile=cafile), "SSL_CERT_FILE"
        try:
            os.stat(cafile)  # missing or unreadable: the OSError says which, once
            count = trust.count()
        except ConfigurationError:  # missing or unreadable: it says so
            raise
        except (OSError, ValueError) as exc:  # not PEM (ssl.SSLError)
            raise ConfigurationError(
                f"SSL_CERT_FILE={cafile!r} cannot be loaded: {_reason(exc)}"
            ) from None
        if count < FEW_CAS:
            notes.append(
                f"it holds {count} CA certificate{'s' if count != 1 else ''}: SSL_CERT_FILE "
                "replaces the public CAs; a company's CA alone fails every other site"
            )
    elif capath:
        trust, source = Trust(capath=capath), "SSL_CERT_DIR"
        if not Path(capath).is_dir():
            raise ConfigurationError(f"SSL_CERT_DIR={capath!r} is not a folder")
    else:
        trust, source = Trust(), "default"
    return Setting(trust, source, tuple(notes))


def _reason(exc: Exception) -> str:
    """What went wrong, without the line of Python's source that said so: `(_ssl.c:4147)`
    differs from one Python version to the next, and the pages show this text."""
    if isinstance(exc, OSError) and not isinstance(exc, ssl.SSLError) and exc.strerror:
        return printable(exc.strerror)  # the path is in the message already
    return printable(re.sub(r" \(_ssl\.c:\d+\)$", "", str(exc)))


# -- what must never be shown ---------------------------------------------------------

SHORTEST_SECRET: Final = 4
"""A proxy password shorter than this is not looked for in text: hiding every `pw` or `a`
would garble what is shown more than it protects."""


def secrets_in(environ: Mapping[str, str]) -> list[str]:
    """What no tool may show of these settings, even when a server or a proxy echoes it back:
    the key as set and as sent, and each proxy variable's password, as written, decoded, and
    inside the `Proxy-Authorization: Basic ...` credentials sent to the proxy."""
    key = environ.get(API_KEY_ENV, "")
    found = [key, key.strip(), key.strip().strip("'\"").strip()]
    for name, value in environ.items():
        if name.lower().endswith("_proxy"):
            found += _proxy_secrets(value)
    return [secret for secret in dict.fromkeys(found) if secret]


def _proxy_secrets(url: str) -> list[str]:
    netloc = url.partition("://")[2] if "://" in url else url
    userinfo = netloc.split("/", 1)[0].rpartition("@")[0]
    user, _, password = userinfo.partition(":")
    if len(password) < SHORTEST_SECRET:
        return []
    decoded = f"{urllib.parse.unquote(user)}:{urllib.parse.unquote(password)}"
    basic = base64.b64encode(decoded.encode()).decode()
    return [password, urllib.parse.unquote(password), basic]


# -- all of them --------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """What the client needs from its environment, each setting read and checked."""

    api_key: Setting[str] | None = field(repr=False)
    """None only for a client that calls public endpoints alone (`require_key=False`)."""
    base_url: Setting[str]
    proxy: Setting[Proxy | None]
    trust: Setting[Trust]

    @property
    def notes(self) -> list[str]:
        """Every note, each after the name of its setting."""
        settings = [self.api_key, self.base_url, self.proxy, self.trust]
        return [f"{s.source}: {note}" for s in settings if s is not None for note in s.notes]


def read_settings(
    environ: Mapping[str, str] | None = None,
    *,
    api_key: object = None,
    base_url: object = None,
    require_key: bool = True,
) -> Settings:
    """Every setting, from the arguments and `environ` (`os.environ` if None); the first
    `ConfigurationError` if one cannot be used."""
    environ = os.environ if environ is None else environ
    key = read_api_key(environ, api_key) if require_key else None
    url = read_base_url(environ, base_url)
    return Settings(key, url, read_proxy(environ, url.value), read_trust(environ))
