"""PromptOps health check: the client against the API, the way your
application uses it: the key accepted, a prompt fetched, then served from the
cache, and rendered with its variables. A failing check stops only the checks
that need it.

    promptops-health-check
    promptops-health-check --prompt ID  # else the first prompt listed
    promptops-health-check --mock  # the mock API this package bundles
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

from snippets.checks import Check, CheckContext, Outcome, Report, run_checks
from snippets.cli import Option, run_check_tool
from snippets.client import (
    AuthenticationError,
    ConfigurationError,
    HealthStatus,
    Prompt,
    PromptOpsError,
)
from snippets.client.redaction import printable


async def authenticated_health(
    ctx: CheckContext,
) -> HealthStatus | PromptOpsError:
    """The first call with the key, made once per run: other checks (the
    doctor's rate limit) read its answer."""
    if "health" not in ctx.facts:
        client = await ctx.client()
        try:
            ctx.facts["health"] = await client.health_check()
        except PromptOpsError as exc:
            ctx.facts["health"] = exc
    answer: HealthStatus | PromptOpsError = ctx.facts["health"]
    return answer


SETTINGS_FIX = (
    "Fix the setting it names: promptops-config-doctor checks them all"
)
# What the client says of an answer that is not the API's (a proxy's page)
NOT_THE_API = "not a PromptOps JSON envelope"
PROXY_FIX = (
    "Not the API's answer: a proxy or gateway on the way refused it; ask "
    "its admins to allow {host}/v1/client/"
)


async def auth(ctx: CheckContext) -> Outcome:
    try:
        answer = await authenticated_health(ctx)
    except ConfigurationError as exc:  # nothing sent: the key is not at fault
        return Outcome("failure", str(exc), SETTINGS_FIX)
    if isinstance(answer, HealthStatus):
        status, version = printable(answer.status), printable(answer.version)
        accepted = "key and signature accepted"
        return Outcome("ok", f"{accepted}; the API is {status} ({version})")
    if isinstance(answer, AuthenticationError):
        if NOT_THE_API in answer.message:  # a proxy's page, not the API's 401
            return Outcome("failure", str(answer), ctx.format_fix(PROXY_FIX))
        return Outcome("failure", str(answer))
    fix = "Read the error: the API answered, but not with its health"
    return Outcome("failure", str(answer), fix)


async def prompt(ctx: CheckContext) -> Outcome:
    client = await ctx.client()
    prompt_id = ctx.options.get("prompt")
    listed = ""
    if not prompt_id:
        try:
            ids = await client.list_prompts()
        except AuthenticationError as exc:  # the health endpoint took the key
            fix = "Check in the dashboard that this key may read prompts"
            return Outcome("failure", str(exc), fix)
        if not ids:
            fix = "Create a prompt, or check the key's workspace"
            return Outcome("warning", "this key sees no prompts", fix)
        prompt_id, listed = ids[0], f" (the first of {len(ids)} listed)"
    found: Prompt = await client.get_prompt(prompt_id)
    ctx.facts["prompt"] = found
    return Outcome("ok", f"{printable(found.id)} v{found.version}{listed}")


async def cache(ctx: CheckContext) -> Outcome:
    if "prompt" not in ctx.facts:
        return Outcome("skipped", "no prompt to fetch")
    client, found = await ctx.client(), ctx.facts["prompt"]
    before = client.get_cache_stats()["hits"]
    await client.get_prompt(found.id)  # fetched just before: from the cache
    stats = client.get_cache_stats()
    if stats["hits"] == before:
        fix = "Keep cache_ttl above 0, and reuse one client"
        return Outcome("warning", "the second fetch was a request", fix)
    rate = f"hit rate {stats['hit_rate']:.0%}"
    return Outcome("ok", f"the second fetch came from the cache ({rate})")


async def render(ctx: CheckContext) -> Outcome:
    if "prompt" not in ctx.facts:
        return Outcome("skipped", "no prompt to render")
    client, found = await ctx.client(), ctx.facts["prompt"]
    variables = dict.fromkeys(found.variables, "health-check")
    rendered = await client.render_prompt(found.id, variables)
    ctx.facts["render"] = (found.id, variables)
    shown = printable(repr(rendered.content), 60)
    size = f"{len(rendered.content)} characters"
    return Outcome("ok", f"{len(variables)} variable(s) set: {shown} ({size})")


CHECKS = (
    Check(
        "auth",
        "Authenticated health",
        auth,
        fix="Check PROMPTOPS_API_KEY against the dashboard: revoked, or from "
        "another workspace?",
        section="authentication/#authentication_error-invalid-api-key-or-signature",
        what="`GET /v1/client/health` accepts the key and the request "
        "signature.",
        needs=("api-key", "clock", "rate-limit"),
    ),
    Check(
        "prompt",
        "Prompt retrieval",
        prompt,
        fix="Read the error: it names the prompt or the field at fault",
        section="common-issues/#request-problems",
        what="The prompt given with `--prompt`, else the first the key lists, "
        "is fetched.",
        needs=("auth",),
    ),
    Check(
        "cache",
        "Caching",
        cache,
        fix="Keep cache_ttl above 0, and reuse one client",
        section="performance-issues/#measure-first-the-profiler",
        what="Fetching that prompt again is served from the client's cache.",
        needs=("prompt",),
    ),
    Check(
        "render",
        "Rendering",
        render,
        fix="Read the error: it names the prompt or the variable at fault",
        section="common-issues/#request-problems",
        what="That prompt renders, each of its variables set.",
        needs=("prompt",),
    ),
)


async def run_health_checks(
    environ: Mapping[str, str] | None = None,
    prompt_id: str | None = None,
    *,
    api_key: str | None = None,
) -> Report:
    """Every check, with the settings in `environ` (`os.environ` if None);
    `api_key` in place of the one they hold (the base URL and proxy kept)."""
    settings = os.environ if environ is None else environ
    if api_key is not None:
        settings = {**settings, "PROMPTOPS_API_KEY": api_key}
    ctx = CheckContext(settings, options={"prompt": prompt_id})
    return await run_checks("health-check", CHECKS, ctx)


def main(argv: list[str] | None = None) -> int:
    option = Option("--prompt", "the prompt to fetch and render", "ID")
    return run_check_tool(
        "health-check", CHECKS, __doc__, argv, options=[option]
    )


if __name__ == "__main__":
    sys.exit(main())
