"""A replay of Pipedrive's API v2 on the loopback, serving a company's CRM in the documented
response shapes: what the tests pull from, and what `sop demo-crm-server` serves so the pull
can be seen working without a Pipedrive account.

`ReplayCrm.from_extracts` turns a landing folder's crm/accounts, crm/deals and erp/items into
Pipedrive records (an organisation per account, a product per item with the sku as its code,
a deal per deal with one product line); `ReplayCrm.respond` answers one GET the way Pipedrive
does: `{"success": true, "data": [...], "additional_data": {"next_cursor": ...}}`, with
`limit`/`cursor`, `updated_since`, the deals' `status` and `/deals/products?deal_ids=`, and a
401 unless the `x-api-token` header carries the token.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pandas as pd

from sop_pipeline.demand.consensus import DEFAULT_STAGE_PROBABILITY

DEMO_TOKEN = "demo-token"  # the demo server's token: not a secret, it guards nothing
COLLECTIONS = ("pipelines", "stages", "products", "organizations", "deals", "deal_products")


@dataclass
class ReplayCrm:
    """Pipedrive's records by collection, and the token the server accepts."""

    token: str = field(repr=False)
    pipelines: list[dict] = field(default_factory=list)
    stages: list[dict] = field(default_factory=list)
    products: list[dict] = field(default_factory=list)
    organizations: list[dict] = field(default_factory=list)
    deals: list[dict] = field(default_factory=list)
    deal_products: list[dict] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)  # path?query of each request served

    @classmethod
    def from_extracts(cls, extracts_dir: Path | str, token: str = DEMO_TOKEN) -> ReplayCrm:
        """The CRM of a landing folder as Pipedrive would hold it."""
        folder = Path(extracts_dir)
        items, accounts, deals = (_read(folder, name)
                                  for name in ("erp/items", "crm/accounts", "crm/deals"))
        crm = cls(token=token)
        crm.pipelines = [{"id": 1, "name": "Sales", "order_nr": 1, "is_deleted": False,
                          "is_deal_probability_enabled": True, "add_time": _EPOCH,
                          "update_time": _EPOCH, "is_selected": True}]
        stage_ids = {}
        for order, (name, probability) in enumerate(DEFAULT_STAGE_PROBABILITY.items(), 1):
            stage_ids[name] = order
            crm.stages.append({"id": order, "order_nr": order, "name": name,
                               "is_deleted": False, "deal_probability": round(probability * 100),
                               "pipeline_id": 1, "is_deal_rot_enabled": False,
                               "days_to_rotten": None, "add_time": _EPOCH, "update_time": None})
        product_ids = {}
        for number, item in enumerate(items.to_dict("records"), 1):
            product_ids[item["sku"]] = number
            crm.products.append({
                "id": number, "name": item.get("description") or item["sku"], "code": item["sku"],
                "unit": item.get("uom") or None, "tax": 0, "category": item.get("family"),
                "is_deleted": False, "is_linkable": True, "visible_to": 3, "owner_id": 1,
                "add_time": _EPOCH, "update_time": _EPOCH, "description": "",
                "prices": [{"product_id": number, "price": float(item["unit_price"] or 0),
                            "currency": "EUR", "cost": float(item["unit_cost"] or 0),
                            "direct_cost": 0}]})
        org_ids = {}
        for number, account in enumerate(accounts.to_dict("records"), 1):
            org_ids[account["account_id"]] = number
            crm.organizations.append({
                "id": number, "name": account.get("name") or account["account_id"],
                "owner_id": 1, "add_time": _EPOCH, "update_time": _EPOCH, "is_deleted": False,
                "visible_to": 3, "label_ids": [], "address": None})
        last_stage = max(stage_ids.values())
        for number, deal in enumerate(deals.to_dict("records"), 1):
            updated = _rfc3339(deal["updated_at"])
            probability = deal.get("probability")
            crm.deals.append({
                "id": number, "title": deal["deal_id"], "owner_id": 1, "person_id": None,
                "org_id": org_ids.get(deal.get("account_id")), "pipeline_id": 1,
                "stage_id": stage_ids.get((deal.get("stage") or "").lower(), last_stage),
                "value": float(deal["amount"] or 0), "currency": "EUR", "add_time": updated,
                "update_time": updated, "stage_change_time": updated, "is_deleted": False,
                "status": deal["status"],
                "probability": round(float(probability) * 100, 6) if probability else None,
                "lost_reason": None, "visible_to": 3, "close_time": None,
                "expected_close_date": deal["expected_close_date"] or None, "label_ids": [],
                "origin": "API"})
            quantity = float(deal["quantity"])
            amount = float(deal["amount"] or 0)
            crm.deal_products.append({
                "id": 1000 + number, "deal_id": number,
                "product_id": product_ids.get(deal["sku"]), "product_variation_id": None,
                "name": deal["sku"], "item_price": amount / quantity if quantity else 0.0,
                "quantity": quantity, "sum": amount, "tax": 0, "tax_method": "none",
                "currency": "EUR", "is_enabled": True, "add_time": updated,
                "update_time": updated, "comments": "", "discount": 0,
                "discount_type": "percentage"})
        return crm

    def respond(self, path: str, query: dict[str, str], headers: dict[str, str]
                ) -> tuple[int, dict]:
        """(status, JSON body) of one GET, as Pipedrive answers it."""
        self.requests.append(path + ("?" + "&".join(f"{k}={v}" for k, v in query.items())
                                     if query else ""))
        if headers.get("x-api-token") != self.token:
            return 401, {"success": False, "error": "unauthorized access",
                         "errorCode": 401, "error_info": "Please check the API token."}
        collection = {"/api/v2/deals/products": "deal_products"}.get(
            path, path.removeprefix("/api/v2/"))
        if collection not in COLLECTIONS:
            return 404, {"success": False, "error": f"Unknown path {path}"}
        records = list(getattr(self, collection))
        if since := query.get("updated_since"):
            records = [r for r in records if (r.get("update_time") or "") >= since]
        if collection == "deals":
            statuses = set(query.get("status", "open,won,lost").split(","))
            records = [r for r in records if ("deleted" in statuses if r.get("is_deleted")
                                              else r["status"] in statuses)]
        if collection == "deal_products":
            wanted = {int(i) for i in query.get("deal_ids", "").split(",") if i}
            records = [r for r in records if r["deal_id"] in wanted]
        sort_by = query.get("sort_by", "id")
        records.sort(key=lambda r: (r.get(sort_by) or "", r["id"]) if sort_by.endswith("time")
                     else (r.get(sort_by) or 0, r["id"]))
        start = int(query.get("cursor", "0").removeprefix("c") or 0)
        limit = min(int(query.get("limit", 100)), 500)
        page = records[start:start + limit]
        more = start + limit < len(records)
        return 200, {"success": True, "data": page,
                     "additional_data": {"next_cursor": f"c{start + limit}" if more else None}}


def serve(crm: ReplayCrm, host: str = "127.0.0.1", port: int = 8099) -> ThreadingHTTPServer:
    """Serve `crm` on host:port (loopback) in a background thread; `.shutdown()` stops it."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlparse(self.path)
            query = {k: v[-1] for k, v in parse_qs(url.query).items()}
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, body = crm.respond(url.path, query, headers)
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args) -> None:  # quiet: the CLI says what it serves
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


_EPOCH = "2020-01-01T00:00:00Z"


def _read(folder: Path, entity: str) -> pd.DataFrame:
    """An extract (CSV or Parquet) as text, empty cells as ''."""
    csv, parquet = folder / f"{entity}.csv", folder / f"{entity}.parquet"
    if csv.exists():
        return pd.read_csv(csv, dtype=str, keep_default_na=False)
    frame = pd.read_parquet(parquet)
    return frame.astype(object).where(frame.notna(), "").astype(str)


def _rfc3339(timestamp: str) -> str:
    """'2026-10-20 14:03:00' (the contract's updated_at) → '2026-10-20T14:03:00Z'."""
    return pd.Timestamp(timestamp).strftime("%Y-%m-%dT%H:%M:%SZ")
