"""For httpx clients a test builds against the in-memory mock (respx): one TLS context for all.

Each `httpx.AsyncClient()` loads the CA bundle again (about 40 ms); answers that never leave
memory need it loaded once."""

from __future__ import annotations

import ssl

TLS = ssl.create_default_context()
