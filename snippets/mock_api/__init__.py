"""The PromptOps API's behaviour, offline: for the tests, and for readers without an account.

```python
with MockPromptOpsAPI() as api:          # every request to api.promptops.com is answered here
    api.rate_limit(times=1, retry_after=2)
    ...                                  # run any snippet with PROMPTOPS_API_KEY=api.api_key
```

In pytest: `pytest_plugins = ["snippets.mock_api.pytest_plugin"]` gives the `mock_api` fixture.
"""

from .server import MOCK_API_KEY, SEED_PROMPTS, MockPromptOpsAPI

__all__ = ["MOCK_API_KEY", "SEED_PROMPTS", "MockPromptOpsAPI"]
