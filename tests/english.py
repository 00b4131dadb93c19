"""For tests that read run-time messages in English: the installation's run language set to English
(``FLUXO_RUN_LANGUAGE``, what the entry points activate) and English active for code called directly.

Usage in a module: ``from tests.english import run_in_english  # noqa: F401`` and
``pytestmark = pytest.mark.usefixtures("run_in_english")``. The default (pt-BR) is covered by
``tests/flows/test_runtime_messages.py``.
"""

from __future__ import annotations

import pytest
from django.utils import translation


@pytest.fixture
def run_in_english(settings):
    settings.FLUXO_RUN_LANGUAGE = "en"
    with translation.override("en"):
        yield
