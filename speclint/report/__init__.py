"""Reporters: turn diagnostics into text for a consumer.  A reporter never analyses."""
from __future__ import annotations

from speclint.report import github, json_report, sarif, text

FORMATS = {"text": text.render, "json": json_report.render, "github": github.render, "sarif": sarif.render}
