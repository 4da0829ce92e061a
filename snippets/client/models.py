"""What the client sends and returns: validated variables and typed results."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import ValidationError

# The contract's PromptId (docs/reference/openapi.yaml): the pattern, less the reserved words.
PROMPT_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}")
RESERVED_PROMPT_IDS = frozenset({"batch-render"})
"""Ids the pattern takes but no prompt has: `batch-render` is the batch endpoint's path."""
# ASCII identifiers: Python also accepts `é` as a name, the API does not.
VARIABLE_NAME_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def check_prompt_id(prompt_id: object) -> str:
    """Return `prompt_id` if the contract allows it as an id, else raise `ValidationError`."""
    if not isinstance(prompt_id, str) or not PROMPT_ID_PATTERN.fullmatch(prompt_id):
        raise ValidationError(
            f"Invalid prompt id {prompt_id!r}: use 1-128 letters, digits, '-' or '_', "
            "starting with a letter or digit"
        )
    if prompt_id in RESERVED_PROMPT_IDS:
        raise ValidationError(
            f"Invalid prompt id {prompt_id!r}: reserved (it is the batch endpoint's path, "
            "never a prompt's id)"
        )
    return prompt_id


class PromptVariables(Mapping[str, Any]):
    """Template variables, checked before anything is sent.

    Names must be ASCII identifiers (`customer_name`, not `customer-name` or `prénom`) and
    values must be plain JSON (str, int, float, bool, None, lists and dicts of them).
    """

    def __init__(self, variables: Mapping[str, Any] | None = None, /, **more: Any) -> None:
        merged: dict[str, Any] = {**(variables or {}), **more}
        for name, value in merged.items():
            if not isinstance(name, str) or not VARIABLE_NAME_PATTERN.fullmatch(name):
                raise ValidationError(
                    f"Invalid variable name {name!r}: use letters, digits and '_', like 'user_name'"
                )
            try:
                # UTF-8 too: a lone surrogate ("\ud800") is valid in a str, not on the wire.
                json.dumps(value, allow_nan=False, ensure_ascii=False).encode("utf-8")
            except (TypeError, ValueError) as exc:
                raise ValidationError(
                    f"Variable {name!r} cannot be sent as JSON ({type(value).__name__}): {exc}"
                ) from None
        self._data = merged

    def __getitem__(self, name: str) -> Any:
        return self._data[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"PromptVariables({self._data!r})"


@dataclass(frozen=True)
class HealthStatus:
    status: str
    version: str


@dataclass(frozen=True)
class Prompt:
    id: str
    name: str
    template: str
    variables: tuple[str, ...]
    version: int


@dataclass(frozen=True)
class RenderedPrompt:
    prompt_id: str
    content: str


@dataclass(frozen=True)
class Probe:
    """What answered a GET without the key (`PromptOpsClient.probe`)."""

    path: str
    status: int
    is_envelope: bool
    """The body is a PromptOps JSON envelope (`{"success": ...}`): the API answered, not a
    proxy or a captive portal."""
    code: str | None
    """The envelope's error code, if it is an error (`AUTHENTICATION_ERROR`)."""
    server_time: float | None
    """The answer's `Date` header as Unix time; None if absent or not a date."""
    sent: float
    """When the request was sent and the answer read (the client's clock, Unix time)."""
    received: float
    elapsed: float
    """Seconds from sending to the whole answer (the client's monotonic clock)."""
    content_type: str
