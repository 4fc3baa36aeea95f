"""AWS Lambda entry point of the REST API: API Gateway (HTTP API, payload 2.0) -> Mangum -> the FastAPI app.

The image's command names ``backend.api.lambda_handler.handler`` (see infra/api-lambda.yaml). The app is built on
the first request of each sandbox and kept for the next ones; before that, every ``<NAME>_SECRET_ARN`` variable is
resolved from Secrets Manager into ``<NAME>`` so that keys never sit in the function's configuration.
"""

from __future__ import annotations

import os
from collections.abc import Callable, MutableMapping
from functools import cache
from typing import Any

ARN_SUFFIX = "_SECRET_ARN"  # a variable holding where a secret is, never the secret


def resolve_secrets(
    env: MutableMapping[str, str],
    fetch: Callable[[str], str],
) -> list[str]:
    """Put each ``<NAME>_SECRET_ARN``'s secret into ``<NAME>``, unless ``<NAME>`` is already set.

    Args:
        env: the environment to read and fill (``os.environ`` in the function).
        fetch: returns a secret's string value from its ARN.

    Returns:
        The names that were filled, sorted (never the values).
    """
    filled = []
    for key, arn in sorted(env.items()):
        name = key.removesuffix(ARN_SUFFIX)
        if not key.endswith(ARN_SUFFIX) or not arn or not name or env.get(name):
            continue
        env[name] = fetch(arn)
        filled.append(name)
    return filled


def secrets_manager_fetch(client: Any = None) -> Callable[[str], str]:
    """A ``fetch`` for :func:`resolve_secrets` over Secrets Manager.

    Args:
        client: a ``secretsmanager`` client; None builds one on the first fetch (none when there is nothing to read).
    """
    clients = [client] if client is not None else []

    def fetch(arn: str) -> str:
        if not clients:
            import boto3

            clients.append(boto3.client("secretsmanager"))
        return str(clients[0].get_secret_value(SecretId=arn)["SecretString"])

    return fetch


LambdaHandler = Callable[[dict[str, Any], Any], dict[str, Any]]


def make_handler(build: Callable[[], Any]) -> LambdaHandler:
    """A Lambda handler over the ASGI app that ``build`` returns, built once, on the first event.

    Args:
        build: returns the ASGI app (called after the secrets are resolved, so settings see them).
    """

    @cache
    def asgi() -> LambdaHandler:
        from mangum import Mangum

        resolve_secrets(os.environ, secrets_manager_fetch())
        # No lifespan: a sandbox is frozen between events, so nothing may run in the background; jobs go to SQS
        # and the ECS workers.
        return Mangum(build(), lifespan="off")

    def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return asgi()(event, context)

    return handle


def _build_api() -> Any:
    # Imported here, not at module load: only the function pays for the app and everything it builds.
    from backend.api.app import create_app

    return create_app(start_worker=False)


handler: LambdaHandler = make_handler(_build_api)
"""The function's handler (API Gateway HTTP API event, payload format 2.0)."""
