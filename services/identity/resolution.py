"""Identity resolution: every system's records of one human become one person.

Deterministic rules on normalised keys come first (a CRM cross-reference to the core id, the same
e-mail, the same national-id hash, the same phone with a compatible surname), then Fellegi–Sunter
matching on name, date of birth, address, phone and more within blocks
(``services.identity.matching``). Matches are clustered with union-find; a cluster never joins two
core customers unless their national ids agree. Clusters with a core customer take that person;
CRM-only clusters become prospects. Devices are stitched to the person who signed in on them, and
their earlier anonymous events are re-attributed.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
from sqlalchemy import Connection, Engine, select, update
from sqlmodel import SQLModel

from services.identity.keys import fold, normalise_email, normalise_phone
from services.identity.matching import (
    Record,
    candidate_pairs,
    compare_last,
    comparison,
    estimate,
    normalise_street,
)

THRESHOLD = 0.9  # posterior match probability above which a pair is merged
_T = SQLModel.metadata.tables


@dataclass
class ResolutionReport:
    """What a resolution run did."""

    records: int = 0
    candidate_pairs: int = 0
    deterministic_links: int = 0
    probabilistic_links: int = 0
    refused_links: int = 0
    clusters: int = 0
    prospects_created: int = 0
    devices_stitched: int = 0
    events_attributed: int = 0
    seconds: float = 0.0
    person_of: dict[str, int] = field(default_factory=dict, repr=False)


class _Clusters:
    """Union-find over record indices; a cluster holds at most one core customer."""

    def __init__(self, records: list[Record]) -> None:
        self.parent = list(range(len(records)))
        self.core = [{r.key} if r.key.startswith("core:") else set() for r in records]
        self.nid = [{r.nid_hash} if r.nid_hash else set() for r in records]

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, i: int, j: int) -> bool | None:
        """Join two clusters: True if joined, None if already one, False if refused."""
        a, b = self.find(i), self.find(j)
        if a == b:
            return None
        if self.core[a] and self.core[b] and not (self.nid[a] & self.nid[b]):
            return False  # two different core customers are two people
        if len(self.core[a]) + len(self.nid[a]) < len(self.core[b]) + len(self.nid[b]):
            a, b = b, a
        self.parent[b] = a
        self.core[a] |= self.core[b]
        self.nid[a] |= self.nid[b]
        return True


def load_records(conn: Connection) -> tuple[list[Record], dict[str, int]]:
    """Core customers, CRM contacts and digital logins as records; and core key -> person."""
    person, ident, crm, event = (
        _T["person"],
        _T["source_identity"],
        _T["crm_contact"],
        _T["digital_event"],
    )
    records: list[Record] = []
    core_person: dict[str, int] = {}
    rows = conn.execute(
        select(person, ident.c.source_key)
        .join(ident, ident.c.person_id == person.c.id)
        .where(ident.c.system == "core_banking")
    )
    for row in rows:
        key = f"core:{row.source_key}"
        core_person[key] = row.id
        records.append(
            Record(
                key=key,
                first=fold(row.first_name),
                last=fold(row.last_name),
                dob=row.date_of_birth,
                email=normalise_email(row.email),
                phone=normalise_phone(row.phone),
                nid_hash=row.national_id_hash,
                nid_last4=row.national_id_last4,
                street=normalise_street(row.address_line),
                postal=fold(row.postal_code),
            )
        )
    for row in conn.execute(select(crm)):
        records.append(
            Record(
                key=f"crm:{row.contact_id}",
                first=fold(row.first_name),
                last=fold(row.last_name),
                dob=row.date_of_birth,
                email=normalise_email(row.email),
                phone=normalise_phone(row.phone),
                nid_last4=row.national_id_last4,
                street=normalise_street(row.street),
                postal=fold(row.postal_code)[:5],
                xref=f"core:{row.core_customer_id}" if row.core_customer_id else None,
            )
        )
    logins = conn.execute(select(event.c.user_id).where(event.c.user_id.is_not(None)).distinct())
    for (user_id,) in logins:
        records.append(Record(key=f"digital:{user_id}", email=normalise_email(user_id)))
    return records, core_person


def _deterministic(records: list[Record]) -> list[tuple[int, int]]:
    index = {r.key: i for i, r in enumerate(records)}
    edges = [(i, index[r.xref]) for i, r in enumerate(records) if r.xref in index]
    for attribute in ("email", "nid_hash", "phone"):
        groups: dict[str, list[int]] = defaultdict(list)
        for i, r in enumerate(records):
            value = getattr(r, attribute)
            if value:
                groups[value].append(i)
        for members in groups.values():
            first = members[0]
            for other in members[1:]:
                a, b = records[first], records[other]
                # A shared phone is a household's as often as a person's: names must agree too.
                if attribute == "phone" and compare_last(a.last, b.last) < 1:
                    continue
                edges.append((first, other))
    return edges


def match(records: list[Record], report: ResolutionReport) -> _Clusters:
    """Cluster records: deterministic links, then probabilistic ones by descending weight."""
    clusters = _Clusters(records)
    for i, j in _deterministic(records):
        outcome = clusters.union(i, j)
        report.deterministic_links += outcome is True
        report.refused_links += outcome is False
    people = [i for i, r in enumerate(records) if not r.key.startswith("digital:")]
    subset = [records[i] for i in people]
    pairs = sorted(candidate_pairs(subset))
    report.candidate_pairs = len(pairs)
    vectors = np.array([comparison(subset[a], subset[b]) for a, b in pairs], dtype=int).reshape(
        len(pairs), -1
    )
    model = estimate(vectors)
    scored = []
    for (a, b), vector in zip(pairs, vectors, strict=True):
        probability = model.probability(vector.tolist())
        if probability >= THRESHOLD:
            scored.append((model.weight(vector.tolist()), people[a], people[b]))
    for _, i, j in sorted(scored, reverse=True):
        outcome = clusters.union(i, j)
        report.probabilistic_links += outcome is True
        report.refused_links += outcome is False
    return clusters


def resolve(engine: Engine) -> ResolutionReport:
    """Resolve every record in the database into people and write the links (idempotent)."""
    started = time.perf_counter()
    report = ResolutionReport()
    with engine.begin() as conn:
        records, core_person = load_records(conn)
        report.records = len(records)
        clusters = match(records, report)
        members: dict[int, list[int]] = defaultdict(list)
        for i in range(len(records)):
            members[clusters.find(i)].append(i)
        report.clusters = len(members)
        for group in members.values():
            keys = [records[i].key for i in group]
            cores = sorted(core_person[k] for k in keys if k in core_person)
            if cores:
                person_id = cores[0]
            elif any(k.startswith("crm:") for k in keys):
                person_id = _prospect(conn, records, group)
                report.prospects_created += 1
            else:
                continue  # a login no other system knows: nobody to attach it to yet
            for key in keys:
                report.person_of[key] = person_id
        _write_links(conn, report)
    report.seconds = time.perf_counter() - started
    return report


def _prospect(conn: Connection, records: list[Record], group: list[int]) -> int:
    crm = _T["crm_contact"]
    contact_ids = sorted(
        records[i].key.removeprefix("crm:") for i in group if records[i].key.startswith("crm:")
    )
    existing = conn.execute(
        select(crm.c.person_id).where(
            crm.c.contact_id.in_(contact_ids), crm.c.person_id.is_not(None)
        )
    ).scalar()
    if existing is not None:
        return int(existing)  # resolved before: keep the same prospect
    row = conn.execute(select(crm).where(crm.c.contact_id == contact_ids[0])).one()
    first, last = (row.first_name or "").strip().title(), (row.last_name or "").strip().title()
    result = conn.execute(
        _T["person"]
        .insert()
        .values(
            full_name=f"{first} {last}".strip() or row.contact_id,
            first_name=first,
            last_name=last,
            date_of_birth=row.date_of_birth,
            email=normalise_email(row.email),
            phone=normalise_phone(row.phone),
            address_line=row.street,
            city=row.city,
            postal_code=row.postal_code,
            country="US",
            segment="prospect",
            is_business=False,
            created_at=datetime.now(UTC),
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def _write_links(conn: Connection, report: ResolutionReport) -> None:
    crm, ident, event = _T["crm_contact"], _T["source_identity"], _T["digital_event"]
    known = {(row.system, row.source_key): row.person_id for row in conn.execute(select(ident))}
    for key, person_id in sorted(report.person_of.items()):
        system, source_key = key.split(":", 1)
        if system == "crm":
            conn.execute(
                update(crm).where(crm.c.contact_id == source_key).values(person_id=person_id)
            )
        system = {"crm": "crm", "digital": "digital", "core": "core_banking"}[system]
        current = known.get((system, source_key))
        if current is None:
            conn.execute(
                ident.insert().values(person_id=person_id, system=system, source_key=source_key)
            )
        elif current != person_id:
            conn.execute(
                update(ident)
                .where(ident.c.system == system, ident.c.source_key == source_key)
                .values(person_id=person_id)
            )
    logins = {
        k.removeprefix("digital:"): p
        for k, p in report.person_of.items()
        if k.startswith("digital:")
    }
    devices: dict[str, set[int]] = defaultdict(set)
    for device, user_id in conn.execute(
        select(event.c.device_id, event.c.user_id).where(event.c.user_id.is_not(None)).distinct()
    ):
        if user_id in logins:
            devices[device].add(logins[user_id])
    for device, people in sorted(devices.items()):
        if len(people) == 1:
            moved = stitch_device(conn, device_id=device, person_id=next(iter(people)))
            report.devices_stitched += 1
            report.events_attributed += moved


def stitch_device(conn: Connection, *, device_id: str, person_id: int) -> int:
    """Attribute every event of a device, earlier anonymous ones too, to who signed in on it.

    Returns:
        How many events changed hands.
    """
    event = _T["digital_event"]
    result = conn.execute(
        update(event)
        .where(
            event.c.device_id == device_id,
            (event.c.person_id.is_(None)) | (event.c.person_id != person_id),
        )
        .values(person_id=person_id)
    )
    return int(result.rowcount or 0)
