"""Replace the README's rules table with the rulebook's (`speclint rules --output-format markdown`)."""
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from speclint import rulebook  # noqa: E402

readme = ROOT / "README.md"
text = readme.read_text(encoding="utf-8")
table = rulebook.markdown_table(rulebook.load())
new, n = re.subn(r"^\| Code \| Name \|.*?\n(?=\n)", lambda m: table, text, count=1, flags=re.S | re.M)
if n != 1:
    sys.exit("README.md: rules table not found")
readme.write_text(new, encoding="utf-8")
