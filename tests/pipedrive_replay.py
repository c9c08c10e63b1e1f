"""Test helpers for the Pipedrive pull: a replay of the API on pytest-httpserver (loopback)."""

from __future__ import annotations

import json
import re

from werkzeug import Request, Response

from sop_pipeline.ingest.pipedrive import PipedriveSettings
from sop_pipeline.ingest.pipedrive_replay import ReplayCrm

TOKEN = "pd-test-token-7c1e9a4b2f"  # a token no test output may ever show


def serve_replay(httpserver, crm: ReplayCrm) -> None:
    """Answer every request of `httpserver` from `crm` (after any one-shot answer set up)."""

    def handler(request: Request) -> Response:
        headers = {k.lower(): v for k, v in request.headers.items()}
        status, body = crm.respond(request.path, dict(request.args), headers)
        return Response(json.dumps(body), status=status, content_type="application/json")

    httpserver.expect_request(re.compile(".*"), method="GET").respond_with_handler(handler)


def settings_for(httpserver, token: str = TOKEN, **kw) -> PipedriveSettings:
    """Fast retries: the tests wait milliseconds, not seconds."""
    return PipedriveSettings(base_url=httpserver.url_for("").rstrip("/"), token=token,
                             **{"page_size": 3, "max_attempts": 3, "backoff_seconds": 0.01,
                                "max_retry_delay": 0.05, "timeout_seconds": 5, **kw})
