"""A small, typed, async reference client for the PromptOps API.

```python
async with PromptOpsClient() as client:  # key from PROMPTOPS_API_KEY
    rendered = await client.render_prompt("hello-world", PromptVariables(name="Ada"))
```
"""

from ._client import (
    INITIAL_BACKOFF,
    JITTER,
    MAX_BACKOFF,
    MAX_BATCH,
    PromptOpsAuth,
    PromptOpsClient,
)
from .errors import (
    ERROR_CATALOG,
    RETRYABLE_ERRORS,
    AuthenticationError,
    ConfigurationError,
    NetworkError,
    PromptNotFoundError,
    PromptOpsError,
    RateLimitError,
    RequestTimeoutError,
    ServerError,
    ValidationError,
    describe_transport_error,
)
from .models import HealthStatus, Probe, Prompt, PromptVariables, RenderedPrompt
from .ratelimit import RateLimiter
from .settings import (
    API_KEY_ENV,
    BASE_URL_ENV,
    DEFAULT_BASE_URL,
    Proxy,
    Setting,
    Settings,
    Trust,
    read_settings,
)

__all__ = [
    "API_KEY_ENV",
    "BASE_URL_ENV",
    "DEFAULT_BASE_URL",
    "ERROR_CATALOG",
    "INITIAL_BACKOFF",
    "JITTER",
    "MAX_BACKOFF",
    "MAX_BATCH",
    "RETRYABLE_ERRORS",
    "AuthenticationError",
    "ConfigurationError",
    "HealthStatus",
    "NetworkError",
    "Probe",
    "Prompt",
    "PromptNotFoundError",
    "PromptOpsAuth",
    "PromptOpsClient",
    "PromptOpsError",
    "PromptVariables",
    "Proxy",
    "RateLimitError",
    "RateLimiter",
    "RenderedPrompt",
    "RequestTimeoutError",
    "ServerError",
    "Setting",
    "Settings",
    "Trust",
    "ValidationError",
    "describe_transport_error",
    "read_settings",
]
