"""Pull the CRM from Pipedrive's API with dlt: deals (and their product lines), stages,
pipelines, organisations and products, landed as they came in DuckDB schema `raw_crm`.

- Enabled only when PIPEDRIVE_API_TOKEN and PIPEDRIVE_COMPANY_DOMAIN (or PIPEDRIVE_BASE_URL,
  e.g. a replay server on 127.0.0.1) are set (`PipedriveSettings.from_env`).
- Every list is read from API v2 with cursor pagination (`additional_data.next_cursor`).
- Deals and organisations are incremental by `update_time` (`updated_since`): dlt keeps the
  cursor in the pipeline state it stores in `raw_crm._dlt_pipeline_state`, beside the data,
  so the warehouse file alone knows where the next pull starts. Stages, pipelines and products
  (small, and without `updated_since`) are read whole each time.
- The product lines of every deal a pull reads are read with it (`/api/v2/deals/products`,
  100 deals a request); a line keeps the load id of its deal's version (see pipedrive_map).
- 429 and 5xx are retried with exponential backoff (Retry-After honoured), so is a host that
  does not answer; then the pull fails. A 401/403 fails at once, naming the setting.
- The token travels in the `x-api-token` header, never in a URL, and is never printed:
  `PipedriveSettings` hides it from repr and every error text is scrubbed of it.
- A page that is not the documented shape (not JSON, no `data` list, a record without `id`)
  is not guessed at: the pull fails, nothing is loaded, and the page is kept in
  `raw_crm.malformed_pages` for inspection.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# dlt reports usage to its authors unless told not to: this pipeline reaches only Pipedrive.
os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")

import dlt
import requests
from dlt.extract.source import DltSource
from dlt.sources.helpers.requests.retry import Client
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.paginators import JSONResponseCursorPaginator

DATASET = "raw_crm"
TOKEN_ENV, DOMAIN_ENV, BASE_URL_ENV = (
    "PIPEDRIVE_API_TOKEN", "PIPEDRIVE_COMPANY_DOMAIN", "PIPEDRIVE_BASE_URL")
PIPELINE_NAME = "pipedrive"
RESOURCES = ("pipelines", "stages", "products", "organizations", "deals", "deal_products")
# The first pull reads everything updated since then (Pipedrive started in 2010).
INITIAL_UPDATED_SINCE = "2000-01-01T00:00:00Z"
DEAL_STATUSES = "open,won,lost,deleted"  # deleted: to learn which deals went away
DEALS_PER_PRODUCTS_REQUEST = 100  # the most /api/v2/deals/products takes
# The columns the mapping reads, typed so that they exist (even when every value is null) and
# a quantity sent as 3 then as 2.5 stays one column. Everything else lands as dlt infers it;
# timestamps stay the text Pipedrive sent.
_TYPES = {"id": "bigint", "num": "double", "text": "text", "bool": "bool"}
_MAPPED = {
    "pipelines": {"id": "id", "name": "text"},
    "stages": {"id": "id", "name": "text", "pipeline_id": "id", "deal_probability": "num"},
    "products": {"id": "id", "code": "text", "name": "text", "is_deleted": "bool"},
    "organizations": {"id": "id", "name": "text", "update_time": "text", "is_deleted": "bool"},
    "deals": {"id": "id", "title": "text", "org_id": "id", "stage_id": "id", "pipeline_id": "id",
              "value": "num", "probability": "num", "status": "text", "is_deleted": "bool",
              "expected_close_date": "text", "update_time": "text"},
    "deal_products": {"id": "id", "deal_id": "id", "product_id": "id", "quantity": "num",
                      "item_price": "num", "sum": "num", "update_time": "text"},
}


def columns(table: str) -> dict[str, dict[str, str]]:
    """dlt column hints of a raw_crm table (new dicts each time: dlt fills them in)."""
    return {name: {"data_type": _TYPES[kind]} for name, kind in _MAPPED[table].items()}


class PipedriveError(RuntimeError):
    """The pull failed; nothing was loaded, the last good CRM data stays."""


@dataclass(frozen=True)
class PipedriveSettings:
    """Where Pipedrive is and how to ask it. The token never shows in repr."""

    base_url: str
    token: str = field(repr=False)
    page_size: int = 500
    max_attempts: int = 5
    backoff_seconds: float = 1.0
    max_retry_delay: float = 60.0
    timeout_seconds: float = 30.0
    url_setting: str = BASE_URL_ENV  # the setting that gave base_url, for error messages

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> PipedriveSettings | None:
        """The settings from the environment, or None when the pull is not configured.

        PIPEDRIVE_BASE_URL wins over PIPEDRIVE_COMPANY_DOMAIN (`acme` → https://acme.pipedrive.com);
        PIPEDRIVE_MAX_ATTEMPTS and PIPEDRIVE_BACKOFF_SECONDS tune the retries."""
        env = os.environ if environ is None else environ
        token = env.get(TOKEN_ENV, "").strip()
        base_url = env.get(BASE_URL_ENV, "").strip()
        domain = env.get(DOMAIN_ENV, "").strip()
        if not token or not (base_url or domain):
            return None
        url_setting = BASE_URL_ENV if base_url else DOMAIN_ENV
        if not base_url:
            host = domain if "." in domain else f"{domain}.pipedrive.com"
            base_url = host if "://" in host else f"https://{host}"
        return cls(base_url=base_url.rstrip("/"), token=token, url_setting=url_setting,
                   max_attempts=int(env.get("PIPEDRIVE_MAX_ATTEMPTS", 5)),
                   backoff_seconds=float(env.get("PIPEDRIVE_BACKOFF_SECONDS", 1.0)))


def pipedrive_source(settings: PipedriveSettings | None) -> DltSource:
    """The dlt source: one resource per table of `raw_crm`. Without settings it only names
    the resources (what the Dagster assets are built from); reading it then fails."""

    made: list[_PipedriveClient] = []

    def client() -> _PipedriveClient:  # one per source, made when a resource first reads
        if settings is None:
            raise PipedriveError(
                f"Pipedrive is not configured: set {TOKEN_ENV} and {DOMAIN_ENV} or {BASE_URL_ENV}.")
        if not made:
            made.append(_PipedriveClient(settings))
        return made[0]

    @dlt.source(name=PIPELINE_NAME, max_table_nesting=1)
    def pipedrive():
        @_table("pipelines", "replace")
        def pipelines() -> Iterator[list[dict]]:
            yield from client().pages("/api/v2/pipelines")

        @_table("stages", "replace")
        def stages() -> Iterator[list[dict]]:
            yield from client().pages("/api/v2/stages")

        @_table("products", "replace")
        def products() -> Iterator[list[dict]]:
            yield from client().pages("/api/v2/products")

        @_table("organizations", "merge")
        def organizations(
            updated=dlt.sources.incremental("update_time", initial_value=INITIAL_UPDATED_SINCE),
        ) -> Iterator[list[dict]]:
            yield from client().pages("/api/v2/organizations", {
                "updated_since": updated.last_value, "sort_by": "update_time"})

        @_table("deals", "merge")
        def deals(
            updated=dlt.sources.incremental("update_time", initial_value=INITIAL_UPDATED_SINCE),
        ) -> Iterator[list[dict]]:
            yield from client().pages("/api/v2/deals", {
                "updated_since": updated.last_value, "status": DEAL_STATUSES,
                "sort_by": "update_time"})

        @dlt.transformer(name="deal_products", data_from=deals, primary_key="id",
                         columns=columns("deal_products"), write_disposition="merge")
        def deal_products(page: list[dict]) -> Iterator[list[dict]]:
            live = [d["id"] for d in page if not d.get("is_deleted")]
            for start in range(0, len(live), DEALS_PER_PRODUCTS_REQUEST):
                ids = live[start:start + DEALS_PER_PRODUCTS_REQUEST]
                yield from client().pages("/api/v2/deals/products", {
                    "deal_ids": ",".join(str(i) for i in ids), "sort_by": "deal_id"})

        return pipelines, stages, products, organizations, deals, deal_products

    source = pipedrive()
    source.schema.remove_type_detection("iso_timestamp")  # keep the text as Pipedrive sent it
    return source


def _table(name: str, write_disposition: str):
    """dlt.resource for one raw_crm table: keyed on Pipedrive's id, the mapped columns typed."""
    return dlt.resource(name=name, primary_key="id", columns=columns(name),
                        write_disposition=write_disposition)


def pipedrive_pipeline(warehouse_dir: Path | str) -> dlt.Pipeline:
    """The dlt pipeline loading into the warehouse's DuckDB file, schema `raw_crm`; its
    working folder (dropped and restored from the warehouse on each Dagster run) is
    <warehouse>/dlt."""
    from sop_pipeline.warehouse import database_path

    warehouse_dir = Path(warehouse_dir)
    warehouse_dir.mkdir(parents=True, exist_ok=True)
    pipeline = dlt.pipeline(
        pipeline_name=PIPELINE_NAME, dataset_name=DATASET,
        destination=dlt.destinations.duckdb(str(database_path(warehouse_dir))),
        pipelines_dir=str(warehouse_dir / "dlt"))
    # dlt logs to the stderr of the moment it first made a pipeline; let its records go where
    # the application's go instead (a quiet `sop run`: the run log; Dagster: the event log)
    dlt_logger = logging.getLogger("dlt")
    for handler in list(dlt_logger.handlers):
        dlt_logger.removeHandler(handler)
    dlt_logger.propagate = True
    return pipeline


def pull(settings: PipedriveSettings, warehouse_dir: Path | str) -> dict[str, Any]:
    """Run the pull outside Dagster (tests, scripts): what the Dagster assets run.

    Returns a summary (load id, rows per table); raises PipedriveError (scrubbed of the token)
    when the pull fails, after keeping any malformed page in raw_crm.malformed_pages."""
    pipeline = pipedrive_pipeline(warehouse_dir)
    try:
        info = pipeline.run(pipedrive_source(settings))
    except Exception as exc:
        raise failure(exc, settings, warehouse_dir) from None
    counts = pipeline.last_trace.last_normalize_info.row_counts
    return {"load_id": info.loads_ids[-1] if info.loads_ids else None,
            "rows": {name: counts.get(name, 0) for name in RESOURCES}}


def failure(exc: BaseException, settings: PipedriveSettings | None,
            warehouse_dir: Path | str) -> PipedriveError:
    """A PipedriveError that says what went wrong and which setting to check, from whatever
    dlt raised; keeps a malformed page in raw_crm.malformed_pages first."""
    root = _root_cause(exc)
    if isinstance(root, MalformedPage):
        _keep_malformed_page(warehouse_dir, root)
    message = _explain(root, settings)
    token = settings.token if settings else ""
    return PipedriveError(message.replace(token, "***") if token else message)


class MalformedPage(PipedriveError):
    """A page that is not in Pipedrive's documented shape."""

    def __init__(self, path: str, status: int, reason: str, body: str) -> None:
        super().__init__(f"a page of {path} is malformed ({reason}); nothing was loaded and the "
                         "page is kept in raw_crm.malformed_pages")
        self.path, self.status, self.reason, self.body = path, status, reason, body


class _TokenHeader(requests.auth.AuthBase):
    """The token in the `x-api-token` header; its repr shows no token."""

    def __init__(self, token: str) -> None:
        self._token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["x-api-token"] = self._token
        return request

    def __repr__(self) -> str:
        return "<pipedrive token header>"


class _PipedriveClient:
    """dlt's REST client with Pipedrive's cursor paginator, retries and page checks."""

    def __init__(self, settings: PipedriveSettings) -> None:
        session = Client(
            request_timeout=settings.timeout_seconds, raise_for_status=False,
            request_max_attempts=settings.max_attempts,
            request_backoff_factor=settings.backoff_seconds,
            request_max_retry_delay=settings.max_retry_delay).session
        self.page_size = settings.page_size
        self.rest = RESTClient(base_url=settings.base_url, auth=_TokenHeader(settings.token),
                               session=session, data_selector="data")

    def pages(self, path: str, params: dict | None = None) -> Iterator[list[dict]]:
        paginator = JSONResponseCursorPaginator(cursor_path="additional_data.next_cursor",
                                                cursor_param="cursor")
        hooks = {"response": [_check_status, _check_page]}
        for page in self.rest.paginate(path, params={"limit": self.page_size, **(params or {})},
                                       paginator=paginator, hooks=hooks):
            yield list(page)


def _check_status(response: requests.Response, *args: Any, **kwargs: Any) -> None:
    response.raise_for_status()


def _check_page(response: requests.Response, *args: Any, **kwargs: Any) -> None:
    """Fail on a page not in the documented shape: {success, data: [{id, ...}],
    additional_data: {next_cursor}}."""
    path = requests.utils.urlparse(response.url).path
    try:
        body = response.json()
    except ValueError:
        raise MalformedPage(path, response.status_code, "not JSON", response.text) from None
    reason = None
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        reason = "no 'data' list"
    elif body.get("success") is False:
        reason = "success is false"
    elif not isinstance(body.get("additional_data", {}), dict | None):
        reason = "'additional_data' is not an object"
    elif any(not isinstance(r, dict) or r.get("id") is None for r in body["data"]):
        reason = "a record without 'id'"
    if reason:
        raise MalformedPage(path, response.status_code, reason, response.text)


def _root_cause(exc: BaseException) -> BaseException:
    """The innermost error dlt wrapped (PipelineStepFailed → extraction error → the cause)."""
    seen = set()
    while id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, PipedriveError | requests.RequestException):
            return exc
        inner = getattr(exc, "exception", None) or exc.__cause__ or exc.__context__
        if not isinstance(inner, BaseException):
            return exc
        exc = inner
    return exc


def _explain(root: BaseException, settings: PipedriveSettings | None) -> str:
    tail = "Nothing was loaded; the last good CRM data stays."
    where = settings.base_url if settings else "Pipedrive"
    if isinstance(root, PipedriveError):
        return f"Pipedrive pull failed: {root} {tail}"
    if isinstance(root, requests.HTTPError) and root.response is not None:
        status, path = root.response.status_code, requests.utils.urlparse(root.response.url).path
        if status in (401, 403):
            return (f"Pipedrive refused the API token (HTTP {status} on {path}): check "
                    f"{TOKEN_ENV} (a personal API token of a user who sees all deals; in "
                    f"Pipedrive: Personal preferences > API). {tail}")
        attempts = f" after {settings.max_attempts} attempts" if settings else ""
        return (f"Pipedrive at {where} answered HTTP {status} on {path}{attempts}: "
                f"{root.response.text[:300]} {tail}")
    if isinstance(root, requests.RequestException):
        attempts = f"after {settings.max_attempts} attempts " if settings else ""
        setting = settings.url_setting if settings else f"{DOMAIN_ENV} / {BASE_URL_ENV}"
        return (f"Pipedrive at {where} could not be reached {attempts}"
                f"({type(root).__name__}): check {setting} and the network. {tail}")
    return f"Pipedrive pull failed ({type(root).__name__}: {root}). {tail}"


def _keep_malformed_page(warehouse_dir: Path | str, page: MalformedPage) -> None:
    from sop_pipeline.warehouse import connect

    with connect(warehouse_dir) as con:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {DATASET}")
        con.execute(f"""CREATE TABLE IF NOT EXISTS {DATASET}.malformed_pages (
            path VARCHAR, status INTEGER, reason VARCHAR, body VARCHAR, received_at TIMESTAMP)""")
        con.execute(f"INSERT INTO {DATASET}.malformed_pages VALUES (?, ?, ?, ?, now()::TIMESTAMP)",
                    [page.path, page.status, page.reason, page.body[:100_000]])

