"""The language server's pause after an edit follows how long the document's last check took."""
from __future__ import annotations

from speclint.lsp import DEBOUNCE_SECONDS, MIN_DEBOUNCE_SECONDS, create_server, document_key


def test_the_pause_after_an_edit_is_half_the_last_check_within_bounds():
    ls = create_server()
    uri = "file:///work/project/model.py"
    assert ls.change_delay(uri) == DEBOUNCE_SECONDS  # never checked yet: the full pause
    ls._took[document_key(uri)] = 0.01
    assert ls.change_delay(uri) == MIN_DEBOUNCE_SECONDS
    ls._took[document_key(uri)] = 0.2
    assert abs(ls.change_delay(uri) - 0.1) < 1e-9
    ls._took[document_key(uri)] = 5.0
    assert ls.change_delay(uri) == DEBOUNCE_SECONDS
    ls.closed(uri)  # closing forgets it
    assert ls.change_delay(uri) == DEBOUNCE_SECONDS
