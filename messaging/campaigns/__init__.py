"""Campaigns (a template to a segment, within WhatsApp's limits) and date-relative events.

See docs/campaigns.md. Models live in :mod:`messaging.campaigns.models` (registered through
``messaging.models``); segments compile to a ``Q`` in :mod:`.segments`; the throttle math is in
:mod:`.limits`; planning, feeding and the actions in :mod:`.services`; reads in :mod:`.selectors`.
"""
