"""A small, typed, async reference client for the PromptOps API.

```python
async with PromptOpsClient() as client:  # key from PROMPTOPS_API_KEY
    rendered = await client.render_prompt("hello-world", PromptVariables(name="Ada"))
```
"""

from ._client import (
    API_KEY_ENV,
    BASE_URL_ENV,
    DEFAULT_BASE_URL,
    PromptOpsAuth,
    PromptOpsClient,
    check_base_url,
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
from .models import HealthStatus, Prompt, PromptVariables, RenderedPrompt

__all__ = [
    "API_KEY_ENV",
    "BASE_URL_ENV",
    "DEFAULT_BASE_URL",
    "ERROR_CATALOG",
    "RETRYABLE_ERRORS",
    "AuthenticationError",
    "ConfigurationError",
    "HealthStatus",
    "NetworkError",
    "Prompt",
    "PromptNotFoundError",
    "PromptOpsAuth",
    "PromptOpsClient",
    "PromptOpsError",
    "PromptVariables",
    "RateLimitError",
    "RenderedPrompt",
    "RequestTimeoutError",
    "ServerError",
    "ValidationError",
    "check_base_url",
    "describe_transport_error",
]
