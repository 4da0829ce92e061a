"""The code the PromptOps troubleshooting guide shows, runs and tests.

- `snippets.client`: a small reference async client for the PromptOps API.
- `snippets.mock_api`: the PromptOps API's behaviour, offline, for tests and for readers.
- `snippets.<page>`: the examples each docs page includes, one module per tool.
"""
