"""Run every benchmark: `make bench` (or .venv/bin/python -m bench)."""

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Run on their own, not in the default set: the soak takes an hour (`make bench-soak`).
SEPARATE = {"embedded_soak.py"}

if __name__ == "__main__":
    failed = 0
    for script in sorted(HERE.glob("*.py")):
        if script.name.startswith("_") or script.name in SEPARATE:
            continue
        print(f"\n== {script.name}", flush=True)
        failed |= subprocess.call([sys.executable, str(script)], cwd=HERE.parent)
    sys.exit(failed)
