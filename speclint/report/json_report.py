from __future__ import annotations

import json


def render(result, **_) -> str:
    return json.dumps([d.to_json() for d in result.diagnostics], indent=2) + "\n"
