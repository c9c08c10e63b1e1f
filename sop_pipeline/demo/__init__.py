"""The bundled demo company: generated on first use, deterministically by seed."""

from __future__ import annotations

import os
from pathlib import Path

from sop_pipeline.demo.generator import generate_company

__all__ = ["DEMO_SEED", "default_extracts_dir", "ensure_demo_company", "generate_company"]

DEMO_SEED = 7


def default_extracts_dir() -> Path:
    """`$SOP_EXTRACTS_DIR`, else the bundled demo company in `./demo_data`."""
    return Path(os.environ.get("SOP_EXTRACTS_DIR", "demo_data")).resolve()


def ensure_demo_company(extracts_dir: Path) -> bool:
    """Generate the demo company into `extracts_dir` unless it already holds extracts."""
    if (extracts_dir / "erp").exists():
        return False
    generate_company(extracts_dir, seed=DEMO_SEED)
    return True
