"""What readers paste or type into the site's search, and the section that answers each.

Most phrases are generated from where readers meet them, so that a new error, message, status
or symptom section is searched for without anyone adding it here:

- every message the API sends: one answer of the mock API in each situation the contract pins
  a message for (the situations of tests/mock_api/test_contract_rules.py), as the client
  raises it, in two forms: `print(exc)` (`CODE: message`) and the last line of a traceback;
- the client's own errors, raised by calling it as a reader would get them wrong (`CALLS`:
  the calls are chosen here, the messages are the client's);
- every error code of the client's catalog (`ERROR_CATALOG`);
- the status line of every HTTP status the API answers with (the mock's answers, the 5xx
  the contract names) or a gateway does (the catalog's other statuses);
- the text each symptom section's heading leads with (tests/test_docs_map.py's `symptoms`):
  the exception text a reader sees there.

`PASTED` and `TYPED` hold what only a person can write: library and operating-system errors as
they print them, pasted, and symptoms in a reader's own words, typed key by key.

Each answer is a section, `page/#anchor` as the search index locates it. A message's is the
symptom section whose heading quotes it, else its error code's section on the API errors page
(which lists every message of the code), unless `SITUATION_SECTIONS` says otherwise; a code's
and a status's are declared in `CODE_SECTIONS` and `STATUS_SECTIONS`, which must name every
one there is (a test holds them to it).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import cache
from http import HTTPStatus
from pathlib import Path

import markdown

from snippets.client import (
    ConfigurationError,
    PromptOpsClient,
    PromptOpsError,
    PromptVariables,
    read_settings,
)
from snippets.client.clock import FakeClock
from snippets.client.errors import ERROR_CATALOG, ERRORS_BY_CODE
from snippets.client.models import check_prompt_id
from snippets.generate import contract_rules
from snippets.mock_api import MockPromptOpsAPI

from ..docs_blocks import DOCS
from ..mock_api.test_contract_rules import SITUATIONS, error
from ..test_docs_map import guide_pages, symptoms


@dataclass(frozen=True)
class Symptom:
    query: str  # what the reader pastes, or types
    answer: str  # the section that answers it: its location in the search index
    source: str  # where the phrase comes from
    typed: bool = False  # typed key by key, not pasted


def code_section(code: str) -> str:
    """The section of an error code on the API errors page: its anchor is the code."""
    return f"api-errors/#{code.lower()}"


COMMON = "common-issues/"
REACH = f"{COMMON}#network_error-could-not-reach-httpsapipromptopscom"
CONTAINER = (
    f"{COMMON}#network_error-could-not-reach-httplocalhost8080-errno-111-connection-refused"
    "-in-a-container"
)
CERTIFICATES = f"{COMMON}#tls-certificate_verify_failed"
EXPIRED = (
    f"{COMMON}#ssl-certificate_verify_failed-certificate-verify-failed-certificate-has-expired"
    "-a-clock-off-by-years"
)
SETTINGS = f"{COMMON}#a-setting-is-rejected"
SOCKS = f"{COMMON}#configurationerror-all_proxy-names-a-socks-proxy-install-httpxsocks"
PROXY_LOGIN = (
    f"{COMMON}#network_error-could-not-reach-httpsapipromptopscom-407-proxy-authentication-required"
)
TYPO = f"{COMMON}#prompt_not_found-prompt-hello-wrold-not-found"
VARIABLE_NAMES = f"{COMMON}#validation_error-invalid-variable-name-customer-name"
RATE_LIMITS = f"{COMMON}#rate_limit_error-rate-limit-exceeded-http-429"
DEPLOY = f"{COMMON}#authentication_error-or-prompt_not_found-right-after-a-deploy"
AUTHENTICATION = "authentication/#authentication_error-invalid-api-key-or-signature"
PROXY_403 = "authentication/#a-proxy-s-403-is-not-the-api-s"
CLOCK = "authentication/#clock-skew-request-timestamp-is-more-than-300-s-from-server-time"
DEADLINE = "performance-issues/#timeout_error-no-answer-within-the-deadline"
POOL = "performance-issues/#pool-exhaustion"
NOT_THE_API = "api-errors/#not-the-apis-answer"


# -- the symptom sections ---------------------------------------------------------------------


def location(page: Path, line: int) -> str:
    """The search index's location of the section whose heading is on `line` of `page`: the
    page's URL and the heading's id, as Python-Markdown's toc writes it."""
    heading = page.read_text("utf-8").splitlines()[line - 1]
    html = markdown.markdown(heading, extensions=["attr_list", "toc"])
    anchor = re.search(r' id="([^"]+)"', html)
    assert anchor, f"{page}:{line}: no id for {heading!r}"
    url = page.relative_to(DOCS).with_suffix("").as_posix()
    url = "" if url == "index" else url.removesuffix("/index") + "/"
    return f"{url}#{anchor[1]}"


def bare_names() -> set[str]:
    """Error codes and exception names: a heading that leads with one alone names no symptom
    of its own (`AUTHENTICATION_ERROR` or `PROMPT_NOT_FOUND` right after a deploy)."""
    names = {n for spec in ERROR_CATALOG for n in (spec.code, spec.exception.__name__)}
    return names | {ConfigurationError.__name__}


@cache
def heading_symptoms() -> tuple[Symptom, ...]:
    """The text each symptom section's heading leads with, and that section."""
    return tuple(
        Symptom(s.text, location(s.page, s.line), f"heading, {s.where}")
        for page in guide_pages()
        for s in symptoms(page)
        if s.text not in bare_names()
    )


def section_quoting(*texts: str) -> str | None:
    """The symptom section whose heading quotes one of `texts` (or its start: a heading may
    stop before the values)."""
    for text in texts:
        for symptom in heading_symptoms():
            if text.startswith(symptom.query):
                return symptom.answer
    return None


# -- the errors the client raises -------------------------------------------------------------

# Messages that a section other than their code's answers, by the contract's situation.
SITUATION_SECTIONS = {
    # The client refuses such a name before sending, with its own message: that section.
    "a variable name that is not an ASCII identifier": VARIABLE_NAMES,
    # Its causes table names it: code that signs requests itself, and sent no signature.
    "no X-PromptOps-Timestamp or X-PromptOps-Signature header": AUTHENTICATION,
    # Its table tells the four timeouts apart, the API gateway's 504 among them.
    "the API's gateway gave up waiting": DEADLINE,
}


def traceback_line(exc: Exception) -> str:
    """The last line of the traceback of `exc`, uncaught."""
    return f"{type(exc).__module__}.{type(exc).__qualname__}: {exc}"


@cache
def api_answers() -> tuple[tuple[str, int, str, str], ...]:
    """(situation, status, code, message) of the mock API's answer in each situation the
    contract pins a message for."""
    answers = []
    for situation, answer in SITUATIONS.items():
        api = MockPromptOpsAPI(clock=FakeClock())
        answers.append((situation, *error(answer(api, api.api_key))))
    return tuple(answers)


def message_symptoms() -> list[Symptom]:
    """Every message the API sends, as the client raises it: printed, and uncaught."""
    found = []
    for situation, status, code, message in api_answers():
        exc = ERRORS_BY_CODE[code].exception(message, status_code=status)
        answer = (
            section_quoting(str(exc), message)
            or SITUATION_SECTIONS.get(situation)
            or code_section(code)
        )
        found.append(Symptom(str(exc), answer, f"the API's message: {situation}"))
        found.append(Symptom(traceback_line(exc), answer, f"uncaught: {situation}"))
    return found


KEY = "po_live_4f9c2a7d"

# The client's own errors, raised before anything is sent, and the section that answers each
# (None: the symptom section whose heading quotes the message).
CALLS: list[tuple[str, Callable[[], object], str | None]] = [
    ("no key", lambda: read_settings({}), None),
    ("timeout 0", lambda: PromptOpsClient(api_key=KEY, timeout=0), SETTINGS),
    ("max_retries -1", lambda: PromptOpsClient(api_key=KEY, max_retries=-1), SETTINGS),
    ("no scheme", lambda: PromptOpsClient(api_key=KEY, base_url="api.promptops.com"), SETTINGS),
    (
        "empty base URL",
        lambda: read_settings({"PROMPTOPS_API_KEY": KEY, "PROMPTOPS_BASE_URL": ""}),
        SETTINGS,
    ),
    (
        "quoted key",
        lambda: read_settings({"PROMPTOPS_API_KEY": f'"{KEY}"'}),
        "authentication/#not-a-cause-quotes-or-spaces-around-the-key",
    ),
    ("a hyphen in a name", lambda: PromptVariables({"customer-name": "Ada"}), None),
    ("a date", lambda: PromptVariables(since=date(2026, 1, 1)), VARIABLE_NAMES),
    (
        "a space in a prompt id",
        lambda: check_prompt_id("hello world"),
        code_section("VALIDATION_ERROR"),
    ),
]


def raised(call: Callable[[], object]) -> PromptOpsError | ConfigurationError:
    try:
        call()
    except (PromptOpsError, ConfigurationError) as exc:
        return exc
    raise AssertionError(f"{call} raised nothing")


def client_symptoms() -> list[Symptom]:
    """The client's own errors, printed and uncaught."""
    found = []
    for name, call, declared in CALLS:
        exc = raised(call)
        printed = str(exc) if isinstance(exc, PromptOpsError) else f"{type(exc).__name__}: {exc}"
        answer = declared or section_quoting(printed)
        assert answer, f"{name}: no heading quotes {printed!r}: declare its section"
        found.append(Symptom(printed, answer, f"the client: {name}"))
        found.append(Symptom(traceback_line(exc), answer, f"uncaught: {name}"))
    return found


# A code alone: the section about its usual case, or its section on API errors when it has
# several usual cases.
CODE_SECTIONS = {
    "AUTHENTICATION_ERROR": AUTHENTICATION,
    "RATE_LIMIT_ERROR": RATE_LIMITS,
    "TIMEOUT_ERROR": DEADLINE,  # its table tells the client's deadline from the API's 504
    "PROMPT_NOT_FOUND": TYPO,
    "VALIDATION_ERROR": code_section("VALIDATION_ERROR"),  # a dozen messages, all listed there
    "NETWORK_ERROR": code_section("NETWORK_ERROR"),  # each cause's section, linked from there
    "SERVER_ERROR": code_section("SERVER_ERROR"),
}


def code_symptoms() -> list[Symptom]:
    return [
        Symptom(spec.code, CODE_SECTIONS.get(spec.code, "undeclared"), "ERROR_CATALOG")
        for spec in ERROR_CATALOG
    ]


@cache
def statuses() -> tuple[int, ...]:
    """Every HTTP status the API answers with, or a gateway in its place (the catalog's
    other statuses)."""
    found = {status for _, status, _, _ in api_answers()}
    for spec in ERROR_CATALOG:
        found |= {s for s in (spec.status, *spec.other_statuses) if s is not None}
    for item in contract_rules()["messages"]["items"]:  # "the API failed (500, 502, 503)"
        listed = re.search(r"\((\d{3}(?:, \d{3})*)\)", item["situation"])
        found |= {int(s) for s in listed[1].split(", ")} if listed else set()
    return tuple(sorted(found))


STATUS_SECTIONS = {
    401: AUTHENTICATION,  # it quotes the status line, and tells the 401s apart
    403: PROXY_403,  # never the API's (the contract has none): a proxy's or a gateway's
    404: TYPO,
    405: code_section("VALIDATION_ERROR"),  # a method the path does not answer: listed there
    408: code_section("TIMEOUT_ERROR"),  # a gateway's: that section tells the timeouts apart
    413: code_section("VALIDATION_ERROR"),
    422: code_section("VALIDATION_ERROR"),
    429: RATE_LIMITS,
    500: code_section("SERVER_ERROR"),
    502: NOT_THE_API,  # "Bad Gateway" is what a proxy or gateway answers
    503: code_section("SERVER_ERROR"),
    504: code_section("TIMEOUT_ERROR"),
}


def status_symptoms() -> list[Symptom]:
    """The status line of every status, as `curl -i` or a proxy's log prints it."""
    return [
        Symptom(
            f"HTTP/1.1 {s} {HTTPStatus(s).phrase}",
            STATUS_SECTIONS.get(s, "undeclared"),
            "status line",
        )
        for s in statuses()
    ]


# -- in readers' words ------------------------------------------------------------------------

PASTED: list[Symptom] = [
    Symptom(query, answer, "written")
    for query, answer in [
        # The client's messages as the pages quote them, in part.
        ("no answer within the 30 s deadline", DEADLINE),
        ("waiting for a free connection", POOL),
        ("answered HTTP 502 with a body that is not a PromptOps JSON envelope", NOT_THE_API),
        ("circuit open: PromptOps failing, next probe in 30 s", "api-errors/#circuit-breaker"),
        # httpx, ssl and socket errors as Python prints them.
        ("httpx.ConnectError: All connection attempts failed", REACH),
        (
            "RuntimeError: Event loop is closed",
            "faq/#event-loop-is-closed-one-client-used-from-several-event-loops",
        ),
        ("[Errno 111] Connection refused", REACH),
        ("[Errno -2] Name or service not known", REACH),
        ("socket.gaierror: [Errno -3] Temporary failure in name resolution", REACH),
        ("[Errno 104] Connection reset by peer", REACH),
        ("[Errno 101] Network is unreachable", REACH),
        # DNS errors as macOS and Windows print them.
        ("nodename nor servname provided, or not known", REACH),
        ("[Errno 11001] getaddrinfo failed", REACH),
        (
            "ssl.SSLCertVerificationError: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify "
            "failed: unable to get local issuer certificate",
            CERTIFICATES,
        ),
        ("self-signed certificate in certificate chain", CERTIFICATES),
        ("certificate verify failed: certificate has expired", EXPIRED),
        ("407 Proxy Authentication Required", PROXY_LOGIN),
        ("which needs the socksio package: pip install 'httpx[socks]'", SOCKS),
        ("httpx.ReadTimeout", DEADLINE),
        ("ReadTimeout", DEADLINE),  # the class alone, as a reader may paste it
        ("httpx.ConnectTimeout", "common-issues/#connect-timeout"),
        ("ConnectTimeout", "common-issues/#connect-timeout"),
        ("ConnectTimeout docker proxy", "common-issues/#connect-timeout"),
        ("PoolTimeout", POOL),
        ("OSError: [Errno 24] Too many open files", POOL),
        (
            "httpx.RemoteProtocolError: Server disconnected without sending a response.",
            "performance-issues/#stale-keep-alive",
        ),
    ]
]

TYPED: list[Symptom] = [
    Symptom(query, answer, "written", typed=True)
    for query, answer in [
        ("localhost in a docker container", CONTAINER),
        (
            "p95 is 3 s",
            "performance-issues/#p95-is-3-s-but-the-api-answers-in-50-ms-retries-and-waits",
        ),
        ("memory keeps growing", "performance-issues/#memory-keeps-growing"),
        ("calls are slow", "performance-issues/#measure-first-the-profiler"),
        ("AWS Lambda first call after a pause fails", "performance-issues/#serverless"),
        ("prompt not found right after a deploy", DEPLOY),
        ("many workers share one key", RATE_LIMITS),
        ("quota used up", RATE_LIMITS),
        ("REQUESTS_CA_BUNDLE has no effect", CERTIFICATES),
        ("corporate proxy CA bundle", CERTIFICATES),
        ("rotate the API key without downtime", "authentication/#rotate-keys-without-downtime"),
        ("clock skew", CLOCK),
        ("401 invalid signature on one server only", AUTHENTICATION),
        ("API key in debug logs", "debugging/#debug-logging"),
        ("support asks for the request id", "faq/#support-asks-for-the-request-id-where-is-it"),
        (
            "edited a prompt but the old version is used",
            "faq/#i-edited-a-prompt-why-does-my-application-still-use-the-old-version",
        ),
    ]
]


@cache
def all_symptoms() -> tuple[Symptom, ...]:
    """Every phrase once: the first source that has it."""
    found: dict[str, Symptom] = {}
    for symptom in [
        *message_symptoms(),
        *client_symptoms(),
        *heading_symptoms(),
        *code_symptoms(),
        *status_symptoms(),
        *PASTED,
        *TYPED,
    ]:
        found.setdefault(symptom.query, symptom)
    return tuple(found.values())


if __name__ == "__main__":
    import json

    print(json.dumps([s.__dict__ for s in all_symptoms()], indent=1))
