"""Applying the fixes the static checks attach to their diagnostics (`--fix`, `--diff`, the
language server's code actions): `edits` turns fixes into new text, `run` fixes files in passes."""
