"""Record the default Chatham-Kent run's tables as the golden copy ``tests/test_golden_outputs.py`` checks.

Run only after a change that is meant to alter the published numbers, and say why in the
commit: speed and refactoring work must leave them byte-identical (issue 19)::

    python scripts/update_golden.py
"""

from __future__ import annotations

import hashlib
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GOLDEN = REPO / "tests" / "fixtures" / "golden" / "chatham-kent"
#: Small public tables kept whole, so a failing test can show the changed lines.
KEPT = ("summary.json", "areas.csv", "hexes.csv")
#: Checked by digest only: rejects.csv holds rows of the mirror's files, which stay out of the repo.
DIGESTED = ("rejects.csv",)


def location_free_digest(path: Path, mirror: Path) -> str:
    """SHA-256 of an output with the mirror's absolute location written as ``<mirror>``.

    rejects.csv names each source file by its full path, so the raw bytes depend on where the
    checkout sits (CI's clean checkout is not the developer's); the rest must not.
    """
    text = path.read_bytes()
    # Longest spelling first: the resolved path contains a relative spelling's tail.
    for spelling in sorted({str(mirror.resolve()), str(mirror)}, key=len, reverse=True):
        text = text.replace(b"," + spelling.encode() + b"/", b",<mirror>/")
    return hashlib.sha256(text).hexdigest()


def main() -> int:
    sys.path.insert(0, str(REPO))
    import gapmap
    from gapmap.sources import catalog

    with tempfile.TemporaryDirectory() as tmp:
        _, files = gapmap.run("chatham-kent", out_dir=Path(tmp))
        GOLDEN.mkdir(parents=True, exist_ok=True)
        for name in KEPT:
            shutil.copyfile(files[name], GOLDEN / name)
        mirror = catalog.find_mirror()
        sums = "".join(f"{location_free_digest(files[n], mirror)}  {n}\n" for n in DIGESTED)
        (GOLDEN / "SHA256SUMS").write_text(sums)
    print(f"recorded {', '.join(KEPT + DIGESTED)} in {GOLDEN.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
