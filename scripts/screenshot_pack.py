"""Screenshot an S&OP pack with headless Chromium, to look at it without a browser.

    python scripts/screenshot_pack.py warehouse/packs/sop_pack_2026-10.html pack.png [--height N]

Headless Chromium has no full-page flag, so the window is made as tall as the page: at least
4000 px, more when the pack's charts and alert table add up to more (or --height).
Chromium (or Chrome) must be on PATH; on Debian: apt-get install -y chromium.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from sop_pipeline.report.browser import find_chromium
from sop_pipeline.report.pack import chart_figures, pack_sections

WIDTH = 1400
HEIGHT = 4000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("page", type=Path, help="the pack's HTML file")
    parser.add_argument("out", type=Path, help="the PNG to write")
    parser.add_argument("--height", type=int, help="window height in pixels (default: the "
                        f"page's estimated height, at least {HEIGHT})")
    args = parser.parse_args(argv)
    chromium = find_chromium()
    if chromium is None:
        print("no chromium, chromium-browser or google-chrome on PATH "
              "(Debian: apt-get install -y chromium)", file=sys.stderr)
        return 2
    if not args.page.is_file():
        print(f"no such file: {args.page}", file=sys.stderr)
        return 2
    height = args.height or estimated_height(args.page.read_text(encoding="utf-8"))
    out = args.out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        result = subprocess.run(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
             "--hide-scrollbars", "--virtual-time-budget=10000", f"--user-data-dir={profile}",
             f"--window-size={WIDTH},{height}", f"--screenshot={out}",
             args.page.resolve().as_uri()],
            capture_output=True, text=True, timeout=300, check=False)
    if result.returncode != 0 or not out.is_file():
        print(result.stderr[-2000:], file=sys.stderr)
        return 1
    print(f"wrote {out}")
    return 0


def estimated_height(page: str) -> int:
    """Charts' own heights + each section's heading and notes + the alert table's rows."""
    charts = sum(f["layout"].get("height", 450) for f in chart_figures(page).values())
    estimate = 200 + charts + 170 * len(pack_sections()) + 34 * page.count("<tr>")
    return max(HEIGHT, estimate)


if __name__ == "__main__":
    sys.exit(main())
