"""Contacts in the workspace: edit attributes and tags, opt out by hand, CSV import and export.

The import is three steps: upload (the CSV is stored, its columns read), dry run (every row
checked: E.164 with ``phonenumbers`` and a default region, duplicates, the consent column) and
run (one transaction: everything or nothing). The run reports its progress through the cache, so
the page can draw a progress bar for a large file while the transaction is still open.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.signals import domain_event_emit
from messaging.models import ConsentEvent, Contact, ContactImport, Tag
from messaging.phones import InvalidPhone, phone_normalize, phone_restricted_region
from messaging.services import contact_consent_set

MAX_IMPORT_BYTES = 5 * 1024 * 1024
MAX_IMPORT_ROWS = 50_000
CHUNK = 500
ATTRIBUTE_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
YES = {"sim", "s", "yes", "y", "true", "1", "opt_in", "opted_in", "optin", "aceito", "aceita", "x"}
NO = {"nao", "não", "n", "no", "false", "0", "opt_out", "opted_out", "optout", "recusou", "sair"}

# Header names (lower case, no accents) recognised for each target, to pre-fill the mapping.
GUESSES = {
    "phone": {"phone", "telefone", "celular", "whatsapp", "numero", "fone", "mobile", "phone_number"},
    "name": {"name", "nome", "nome_completo", "full_name", "cliente"},
    "tags": {"tags", "etiquetas", "tag", "grupos"},
    "consent": {"consent", "consentimento", "opt_in", "optin", "aceita_marketing", "aceita", "marketing"},
}


class ImportRejected(ValueError):
    """The file or the options cannot be used; ``field`` says where."""

    def __init__(self, message: str, *, field: str = "non_field_errors"):
        super().__init__(message)
        self.message, self.field = message, field


def _fold(text: str) -> str:
    import unicodedata

    plain = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", plain.lower()).strip("_")


# --- Editing ------------------------------------------------------------------------------------


@transaction.atomic
def contact_update(*, contact: Contact, name: str | None = None, attributes: dict[str, Any] | None = None,
                   tags: list[str] | None = None) -> Contact:
    """Change a contact's name, attributes (replaced whole) and tags (by name, created when new)."""
    fields = ["updated_at"]
    if name is not None:
        contact.name = name.strip()
        fields.append("name")
    if attributes is not None:
        bad = [key for key in attributes if not ATTRIBUTE_KEY.match(str(key))]
        if bad:
            raise ImportRejected(_("attribute names use letters, digits and _ (not '%(name)s')") % {"name": bad[0]}, field="attributes")
        contact.attributes = attributes
        fields.append("attributes")
    contact.save(update_fields=fields)
    if tags is not None:
        contact.tags.set(_tags(tags))
    if attributes is not None:
        from messaging.campaigns.events import contact_dates_changed

        contact_dates_changed(contact_ids=[contact.pk])
    return contact


def _tags(names: list[str]) -> list[Tag]:
    clean = sorted({name.strip()[:64] for name in names if name and name.strip()})
    existing = {tag.name: tag for tag in Tag.objects.filter(name__in=clean)}
    missing = [Tag(name=name) for name in clean if name not in existing]
    if missing:
        Tag.objects.bulk_create(missing, ignore_conflicts=True)
        existing = {tag.name: tag for tag in Tag.objects.filter(name__in=clean)}
    return list(existing.values())


def contact_opt_out_by_hand(*, contact: Contact, categories: list[str], actor, note: str = "") -> bool:
    """A person records that the customer asked not to be messaged (phone call, e-mail, ...)."""
    unknown = [c for c in categories if c not in Contact.CONSENT_CATEGORIES]
    if unknown or not categories:
        raise ImportRejected(_("categories are %(list)s") % {"list": ", ".join(Contact.CONSENT_CATEGORIES)},
                             field="categories")
    who = getattr(actor, "username", "") or "?"
    return contact_consent_set(contact=contact, categories=categories, state=Contact.Consent.OPTED_OUT,
                               source=f"by hand ({who})", actor=actor, note=note)


# --- Import -------------------------------------------------------------------------------------


@dataclass
class ImportOptions:
    phone: str
    name: str = ""
    tags: str = ""
    consent: str = ""
    attributes: list[str] = field(default_factory=list)
    default_region: str = "BR"
    consent_category: str = "marketing"
    extra_tag: str = ""
    skip_invalid: bool = False

    @classmethod
    def parse(cls, data: dict[str, Any], columns: list[str]) -> ImportOptions:
        import phonenumbers

        mapping = data.get("mapping") or {}
        options = cls(phone=str(mapping.get("phone") or ""), name=str(mapping.get("name") or ""),
                      tags=str(mapping.get("tags") or ""), consent=str(mapping.get("consent") or ""),
                      attributes=[str(c) for c in mapping.get("attributes") or []],
                      default_region=str(data.get("default_region") or "BR").upper(),
                      consent_category=str(data.get("consent_category") or "marketing"),
                      extra_tag=str(data.get("extra_tag") or "").strip()[:64],
                      skip_invalid=bool(data.get("skip_invalid")))
        if not options.phone:
            raise ImportRejected(_("choose the column with the phone numbers"), field="mapping.phone")
        for column in [options.phone, options.name, options.tags, options.consent, *options.attributes]:
            if column and column not in columns:
                raise ImportRejected(_("the file has no column '%(column)s'") % {"column": column}, field="mapping")
        if options.default_region not in phonenumbers.SUPPORTED_REGIONS:
            raise ImportRejected(_("'%(region)s' is not a region code (e.g. BR)") % {"region": options.default_region},
                                 field="default_region")
        if options.consent_category not in Contact.CONSENT_CATEGORIES:
            raise ImportRejected(_("categories are %(list)s") % {"list": ", ".join(Contact.CONSENT_CATEGORIES)},
                                 field="consent_category")
        for column in options.attributes:
            if not ATTRIBUTE_KEY.match(_fold(column)):
                raise ImportRejected(_("column '%(column)s' cannot be an attribute name") % {"column": column},
                                     field="mapping.attributes")
        return options

    def as_dict(self) -> dict[str, Any]:
        return {"mapping": {"phone": self.phone, "name": self.name, "tags": self.tags, "consent": self.consent,
                            "attributes": self.attributes},
                "default_region": self.default_region, "consent_category": self.consent_category,
                "extra_tag": self.extra_tag, "skip_invalid": self.skip_invalid}


def _read(content: str) -> tuple[list[str], list[list[str]]]:
    text = content.lstrip("\ufeff")
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    rows = list(csv.reader(io.StringIO(text), dialect))
    rows = [row for row in rows if any(cell.strip() for cell in row)]
    if not rows:
        raise ImportRejected(_("the file is empty"), field="file")
    header = [cell.strip() for cell in rows[0]]
    if len(set(header)) != len(header) or any(not name for name in header):
        raise ImportRejected(_("the first line must name every column once (e.g. telefone;nome)"), field="file")
    return header, rows[1:]


def contact_import_upload(*, content: str, filename: str = "", user=None) -> ContactImport:
    """Store an uploaded CSV and read its columns (UTF-8; comma, semicolon or tab separated)."""
    if len(content.encode("utf-8")) > MAX_IMPORT_BYTES:
        raise ImportRejected(_("the file is larger than %(n)d MB") % {"n": MAX_IMPORT_BYTES // (1024 * 1024)},
                             field="file")
    header, rows = _read(content)
    if len(rows) > MAX_IMPORT_ROWS:
        raise ImportRejected(_("at most %(n)d rows per file") % {"n": MAX_IMPORT_ROWS}, field="file")
    return ContactImport.objects.create(filename=filename[:255], content=content, columns=header,
                                        row_count=len(rows), created_by=user if getattr(user, "pk", None) else None)


def import_preview(contact_import: ContactImport, *, rows: int = 5) -> dict[str, Any]:
    header, body = _read(contact_import.content)
    suggested: dict[str, Any] = {"attributes": []}
    for column in header:
        key = _fold(column)
        target = next((name for name, names in GUESSES.items() if key in names), None)
        if target and target not in suggested:
            suggested[target] = column
        elif ATTRIBUTE_KEY.match(key):
            suggested["attributes"].append(column)
    return {"columns": header, "sample": [dict(zip(header, row, strict=False)) for row in body[:rows]],
            "row_count": len(body), "suggested_mapping": suggested}


def _consent_value(raw: str) -> str | None | bool:
    """opted_in / opted_out, None for an empty cell, False when unreadable."""
    value = _fold(raw)
    if not value:
        return None
    if value in YES:
        return Contact.Consent.OPTED_IN
    if value in NO or value == "nao":
        return Contact.Consent.OPTED_OUT
    return False


@dataclass
class Row:
    line: int
    phone: str
    name: str
    tags: list[str]
    consent: str | None
    attributes: dict[str, str]


def _check(contact_import: ContactImport, options: ImportOptions) -> tuple[list[Row], list[dict[str, Any]]]:
    header, body = _read(contact_import.content)
    index = {name: position for position, name in enumerate(header)}

    def cell(row: list[str], column: str) -> str:
        return row[index[column]].strip() if column and index[column] < len(row) else ""

    good: list[Row] = []
    bad: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for number, row in enumerate(body, start=2):  # line 1 is the header
        raw_phone = cell(row, options.phone)
        try:
            phone = phone_normalize(raw_phone, region=options.default_region)
        except InvalidPhone as exc:
            reason = "empty" if not raw_phone else "invalid"
            bad.append({"line": number, "phone": raw_phone, "code": f"phone_{reason}", "reason": str(exc)})
            continue
        restricted = phone_restricted_region(phone)
        if restricted:
            bad.append({"line": number, "phone": raw_phone, "code": "phone_restricted",
                        "reason": _("WhatsApp Business may not message numbers from %(region)s") % {"region": restricted}})
            continue
        if phone in seen:
            bad.append({"line": number, "phone": raw_phone, "code": "duplicate",
                        "reason": _("%(phone)s is already on line %(line)d") % {"phone": phone, "line": seen[phone]}})
            continue
        consent = _consent_value(cell(row, options.consent)) if options.consent else None
        if consent is False:
            bad.append({"line": number, "phone": raw_phone, "code": "consent_unreadable",
                        "reason": _("consent '%(value)s' is not sim/não (yes/no)") % {"value": cell(row, options.consent)}})
            continue
        seen[phone] = number
        tags = [t.strip() for t in re.split(r"[,|]", cell(row, options.tags)) if t.strip()] if options.tags else []
        if options.extra_tag:
            tags.append(options.extra_tag)
        attributes = {_fold(column): cell(row, column) for column in options.attributes if cell(row, column)}
        good.append(Row(number, phone, cell(row, options.name), tags, consent or None, attributes))
    return good, bad


def contact_import_dry_run(*, contact_import: ContactImport, data: dict[str, Any]) -> dict[str, Any]:
    """Check every row without writing; remember the options for the run."""
    options = ImportOptions.parse(data, contact_import.columns)
    good, bad = _check(contact_import, options)
    existing = set(Contact.objects.filter(phone__in=[row.phone for row in good]).values_list("phone", flat=True))
    contact_import.options = options.as_dict()
    contact_import.save(update_fields=["options"])
    return {"total": len(good) + len(bad), "valid": len(good), "invalid": len(bad), "bad_rows": bad[:1000],
            "create": sum(row.phone not in existing for row in good), "update": len(existing),
            "options": options.as_dict()}


def progress_key(pk: int) -> str:
    return f"fluxo:contact-import:{pk}:progress"


def import_progress(contact_import: ContactImport) -> dict[str, Any]:
    done = cache.get(progress_key(contact_import.pk))
    if contact_import.status == ContactImport.Status.DONE:
        done = contact_import.row_count
    return {"processed": int(done or 0), "total": contact_import.row_count}


def contact_import_queue(*, contact_import: ContactImport, data: dict[str, Any]) -> ContactImport:
    """Validate again and queue the import (a worker runs it). Bad rows refuse it unless skipped."""
    from messaging.import_tasks import contact_import_run_task

    options = ImportOptions.parse(data, contact_import.columns)
    if contact_import.status in (ContactImport.Status.QUEUED, ContactImport.Status.RUNNING, ContactImport.Status.DONE):
        raise ImportRejected(_("this import is already %(status)s") % {"status": contact_import.get_status_display().lower()},
                             field="status")
    good, bad = _check(contact_import, options)
    if bad and not options.skip_invalid:
        raise ImportRejected(_("%(n)d row(s) have problems: fix the file, or choose to skip them") % {"n": len(bad)},
                             field="file")
    if not good:
        raise ImportRejected(_("no row can be imported"), field="file")
    contact_import.options = options.as_dict()
    contact_import.status = ContactImport.Status.QUEUED
    contact_import.error = ""
    contact_import.save(update_fields=["options", "status", "error"])
    cache.set(progress_key(contact_import.pk), 0, timeout=24 * 3600)
    pk = contact_import.pk
    transaction.on_commit(lambda: contact_import_run_task.delay(pk))
    return contact_import


def contact_import_run(*, import_id: int) -> ContactImport:
    """Import every valid row in ONE transaction: on any failure nothing stays imported."""
    contact_import = ContactImport.objects.get(pk=import_id)
    if contact_import.status not in (ContactImport.Status.QUEUED, ContactImport.Status.FAILED):
        return contact_import
    ContactImport.objects.filter(pk=import_id).update(status=ContactImport.Status.RUNNING)
    options = ImportOptions.parse(contact_import.options, contact_import.columns)
    good, bad = _check(contact_import, options)
    try:
        with transaction.atomic():
            created, updated = _write(contact_import, options, good)
    except Exception as exc:
        ContactImport.objects.filter(pk=import_id).update(
            status=ContactImport.Status.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000], finished_at=timezone.now())
        cache.delete(progress_key(import_id))
        raise
    ContactImport.objects.filter(pk=import_id).update(
        status=ContactImport.Status.DONE, created=created, updated=updated, skipped=len(bad),
        finished_at=timezone.now())
    cache.set(progress_key(import_id), contact_import.row_count, timeout=24 * 3600)
    contact_import.refresh_from_db()
    return contact_import


def _write(contact_import: ContactImport, options: ImportOptions, rows: list[Row]) -> tuple[int, int]:
    now = timezone.now()
    source = f"import #{contact_import.pk} ({contact_import.filename or 'CSV'})"
    tags = {tag.name: tag for tag in _tags([name for row in rows for name in row.tags])}
    created = updated = 0
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start:start + CHUNK]
        existing = {c.phone: c for c in Contact.objects.select_for_update().filter(phone__in=[r.phone for r in chunk])}
        new = [Contact(phone=row.phone, name=row.name, attributes=row.attributes) for row in chunk
               if row.phone not in existing]
        Contact.objects.bulk_create(new)
        created += len(new)
        changed = []
        for row in chunk:
            contact = existing.get(row.phone)
            if contact is None:
                continue
            if row.name:
                contact.name = row.name
            contact.attributes = {**(contact.attributes or {}), **row.attributes}
            contact.updated_at = now  # bulk_update does not apply auto_now
            changed.append(contact)
        Contact.objects.bulk_update(changed, ["name", "attributes", "updated_at"] if changed else ["name"])
        updated += len(changed)
        by_phone = {c.phone: c for c in Contact.objects.filter(phone__in=[r.phone for r in chunk])}
        from messaging.campaigns.events import contact_dates_changed
        from messaging.campaigns.services import imported_contacts_record

        imported_contacts_record(contact_import_id=contact_import.pk, contact_ids=[c.pk for c in by_phone.values()])
        contact_dates_changed(contact_ids=[c.pk for c in by_phone.values()], now=now)
        through = Contact.tags.through
        through.objects.bulk_create(
            [through(contact_id=by_phone[row.phone].pk, tag_id=tags[name].pk) for row in chunk for name in row.tags],
            ignore_conflicts=True)
        consents, history = [], []
        for row in chunk:
            contact = by_phone[row.phone]
            if row.consent is None or contact.consent_state(options.consent_category) == row.consent:
                continue
            contact.consent = {**(contact.consent or {}),
                               options.consent_category: {"state": row.consent, "at": now.isoformat(), "source": source}}
            consents.append(contact)
            history.append(ConsentEvent(contact=contact, category=options.consent_category, state=row.consent,
                                        source=source[:200], contact_import=contact_import,
                                        actor=contact_import.created_by, note=f"line {row.line}", at=now))
            verb = "opted_out" if row.consent == Contact.Consent.OPTED_OUT else "opted_in"
            domain_event_emit(event_type=f"contact.{verb}", data={
                "contact": contact.phone, "categories": [options.consent_category], "source": source})
        Contact.objects.bulk_update(consents, ["consent"] if consents else ["name"])
        ConsentEvent.objects.bulk_create(history)
        cache.set(progress_key(contact_import.pk), start + len(chunk), timeout=24 * 3600)
    return created, updated


# --- Export -------------------------------------------------------------------------------------


def contacts_export_csv(contacts) -> str:
    """The contacts as CSV: phone, name, tags, consent per category, then one column per attribute."""
    contacts = list(contacts.prefetch_related("tags"))
    keys = sorted({key for contact in contacts for key in (contact.attributes or {})})
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["phone", "name", "tags", *(f"consent_{c}" for c in Contact.CONSENT_CATEGORIES),
                     "last_inbound_at", "created_at", *keys])
    for contact in contacts:
        writer.writerow([contact.phone, _csv_safe(contact.name), ",".join(t.name for t in contact.tags.all()),
                         *(contact.consent_state(c) for c in Contact.CONSENT_CATEGORIES),
                         contact.last_inbound_at.isoformat() if contact.last_inbound_at else "",
                         contact.created_at.isoformat(),
                         *(_csv_safe(str((contact.attributes or {}).get(key, ""))) for key in keys)])
    return out.getvalue()


def _csv_safe(value: str) -> str:
    # A cell starting with = + - @ runs as a formula in spreadsheets (CSV injection).
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value
