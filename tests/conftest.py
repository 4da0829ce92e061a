"""The suite uses the same fixtures a reader gets: `clock` (fake time) and `mock_api`."""

pytest_plugins = ["snippets.mock_api.pytest_plugin"]
