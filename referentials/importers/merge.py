"""Set-based merge of staged FINESS rows into the directory, the same SQL on PostgreSQL and SQLite.

The rows of a file are first loaded into temporary staging tables: with ``COPY`` on PostgreSQL
(psycopg 3 ``cursor.copy``), with ``executemany`` on SQLite. Then a handful of statements do the
work for all rows at once: ``INSERT ... SELECT`` for new rows, ``UPDATE ... FROM`` staging for
rows whose hash differs, one ``INSERT ... SELECT`` of history rows per tracked field, an
``UPDATE`` closing the open rows absent from the file. No row goes through the ORM one by one.

Every statement runs inside the caller's transaction: the caller decides to keep or roll back.

The SQL is assembled from table and column names taken from the models and from constants,
quoted by the connection; every value goes as a parameter (hence the S608 exemption).
"""
# ruff: noqa: S608

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import connection
from django.db.models import Model

from referentials.importers.rows import (
    CLOSED,
    EJ_COLUMNS,
    EJ_DATES,
    ET_COLUMNS,
    ET_DATES,
    ET_FLOATS,
    OPEN,
)
from referentials.models import Category, Correction, DirectoryChange, Establishment, LegalEntity

STAGING_ET = "import_staging_establishment"
STAGING_EJ = "import_staging_legal_entity"
MATCH = "import_staging_match"
# What happens to a staged (or, for VANISHED, a stored) establishment.
CREATED, UPDATED, REOPENED, CLOSING, VANISHED = (
    "created",
    "updated",
    "reopened",
    "closing",
    "vanished",
)
COPY_BATCH = 10_000
PLACEHOLDER_NAME = "Entité juridique FINESS "

# Legal entities' fields whose changes an import writes to the history.
LEGAL_ENTITY_TRACKED_FIELDS = (
    "name",
    "long_name",
    "siren",
    "legal_status_code",
    "address",
    "postcode",
    "city",
    "territory_code",
    "phone",
)

# Fields whose changes an import writes to the history (one DirectoryChange per changed field).
TRACKED_FIELDS = (
    "name",
    "long_name",
    "category_code",
    "aggregate_category_code",
    "address",
    "postcode",
    "city",
    "commune_code",
    "territory_code",
    "region_code",
    "phone",
    "fax",
    "siret",
    "ape_code",
    "pricing_code",
    "sph_code",
    "opened_on",
    "authorised_on",
    "latitude",
    "longitude",
)
GEO_FIELDS = frozenset({"latitude", "longitude", "source_x", "source_y", "source_crs"})
# Columns the staging rows carry that are no columns of the model.
_STAGING_ONLY = frozenset({"legal_entity_finess", "has_geo"})


# A row differs from the directory when its hash does, or when the file locates it elsewhere
# (coordinates are not hashed: a file 502 has none, and leaves the stored ones alone).
CHANGED = (
    "(e.row_hash <> s.row_hash OR (s.has_geo = 1 AND ("
    "e.latitude IS DISTINCT FROM s.latitude OR e.longitude IS DISTINCT FROM s.longitude "
    "OR e.source_x IS DISTINCT FROM s.source_x OR e.source_y IS DISTINCT FROM s.source_y "
    "OR e.source_crs <> s.source_crs)))"
)


def q(name: str) -> str:
    return connection.ops.quote_name(name)


def _table(model: type[Model]) -> str:
    return q(model._meta.db_table)


@dataclass
class Plan:
    """What the merge will do, counted before anything is written."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    closed: int = 0
    reopened: int = 0
    open_before: int = 0
    legal_entities_created: int = 0
    legal_entities_updated: int = 0
    legal_entities_closed: int = 0
    legal_entities_open_before: int = 0


class Merge:
    def __init__(self, *, run_id: int, extract_date: date | None, now: datetime) -> None:
        self.run_id = run_id
        self.extract_date = extract_date.isoformat() if extract_date else None
        self.now = now
        self.postgres = connection.vendor == "postgresql"
        self.cursor = connection.cursor()

    # -- staging ----------------------------------------------------------------------------

    def _create_staging(self, name: str, columns: Sequence[str], dates: frozenset[str]) -> None:
        def sql_type(column: str) -> str:
            if column in dates:
                return "date" if self.postgres else "text"
            if column in ET_FLOATS:
                return "double precision" if self.postgres else "real"
            if column == "has_geo":
                return "integer"
            return "text"

        definition = ", ".join(f"{q(c)} {sql_type(c)}" for c in columns)
        temporary = "TEMPORARY TABLE"
        self.cursor.execute(f"DROP TABLE IF EXISTS {q(name)}")
        self.cursor.execute(f"CREATE {temporary} {q(name)} ({definition})")

    def stage(
        self,
        establishments: Sequence[tuple[object, ...]],
        legal_entities: Sequence[tuple[object, ...]],
    ) -> None:
        self._create_staging(STAGING_ET, ET_COLUMNS, ET_DATES)
        self._create_staging(STAGING_EJ, EJ_COLUMNS, EJ_DATES)
        self._fill(STAGING_ET, ET_COLUMNS, establishments)
        self._fill(STAGING_EJ, EJ_COLUMNS, legal_entities)
        self.cursor.execute(
            f"CREATE UNIQUE INDEX {q(STAGING_ET + '_finess')} ON {q(STAGING_ET)} (finess)"
        )
        self.cursor.execute(
            f"CREATE UNIQUE INDEX {q(STAGING_EJ + '_finess')} ON {q(STAGING_EJ)} (finess)"
        )
        if self.postgres:
            self.cursor.execute(f"ANALYZE {q(STAGING_ET)} (finess)")
            self.cursor.execute(f"ANALYZE {q(STAGING_EJ)}")

    def _fill(self, name: str, columns: Sequence[str], rows: Sequence[tuple[object, ...]]) -> None:
        if not rows:
            return
        column_list = ", ".join(q(c) for c in columns)
        if self.postgres:
            with self.cursor.copy(f"COPY {q(name)} ({column_list}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        placeholders = ", ".join("%s" for _ in columns)
        sql = f"INSERT INTO {q(name)} ({column_list}) VALUES ({placeholders})"
        for start in range(0, len(rows), COPY_BATCH):
            self.cursor.executemany(sql, rows[start : start + COPY_BATCH])  # type: ignore[arg-type]

    def drop_staging(self) -> None:
        self.cursor.execute(f"DROP TABLE IF EXISTS {q(MATCH)}")
        self.cursor.execute(f"DROP TABLE IF EXISTS {q(STAGING_ET)}")
        self.cursor.execute(f"DROP TABLE IF EXISTS {q(STAGING_EJ)}")

    # -- counting ---------------------------------------------------------------------------

    def _count(self, sql: str, params: Sequence[Any] = ()) -> int:
        self.cursor.execute(sql, params)
        return int(self.cursor.fetchone()[0])

    def plan(self, *, close_absent_establishments: bool, close_absent_entities: bool) -> Plan:
        """Count what the merge will do; keep the rows it will touch in a small match table.

        One pass over the file's rows finds those that are new, changed, closed or reopened
        (``MATCH``, with what will happen to each): the history and the writes then join that
        table only, not the whole file again, and unchanged rows are never touched.
        """
        et, ej, s, sj = _table(Establishment), _table(LegalEntity), q(STAGING_ET), q(STAGING_EJ)
        m = q(MATCH)
        self.cursor.execute(f"DROP TABLE IF EXISTS {m}")
        self.cursor.execute(
            f"CREATE TEMPORARY TABLE {m} AS SELECT s.finess AS finess, "
            "e.id AS establishment_id, CASE "
            f"WHEN e.id IS NULL THEN '{CREATED}' "
            f"WHEN e.status <> s.status AND s.status = '{OPEN}' THEN '{REOPENED}' "
            f"WHEN e.status <> s.status THEN '{CLOSING}' "
            f"ELSE '{UPDATED}' END AS outcome "
            f"FROM {s} s LEFT JOIN {et} e ON e.finess = s.finess "
            f"WHERE e.id IS NULL OR e.status <> s.status OR {CHANGED}"
        )
        if close_absent_establishments:
            # Stock files list every open establishment: one that is missing has closed.
            self.cursor.execute(
                f"INSERT INTO {m} (finess, establishment_id, outcome) "
                f"SELECT e.finess, e.id, '{VANISHED}' FROM {et} e WHERE e.status = %s "
                f"AND NOT EXISTS (SELECT 1 FROM {s} s WHERE s.finess = e.finess)",
                [OPEN],
            )
        self.cursor.execute(f"CREATE INDEX {q(MATCH + '_finess')} ON {m} (finess)")
        self.cursor.execute(f"SELECT outcome, COUNT(*) FROM {m} GROUP BY outcome")
        outcomes = dict(self.cursor.fetchall())
        staged = self._count(f"SELECT COUNT(*) FROM {s}")
        plan = Plan()
        plan.open_before = self._count(f"SELECT COUNT(*) FROM {et} WHERE status = %s", [OPEN])
        plan.created = outcomes.get(CREATED, 0)
        plan.updated = outcomes.get(UPDATED, 0)
        plan.reopened = outcomes.get(REOPENED, 0)
        plan.closed = outcomes.get(CLOSING, 0) + outcomes.get(VANISHED, 0)
        plan.unchanged = staged - plan.created - plan.updated - plan.reopened
        plan.unchanged -= outcomes.get(CLOSING, 0)
        plan.legal_entities_open_before = self._count(
            f"SELECT COUNT(*) FROM {ej} WHERE status = %s", [OPEN]
        )
        plan.legal_entities_created = self._count(
            f"SELECT COUNT(*) FROM {sj} s WHERE NOT EXISTS "
            f"(SELECT 1 FROM {ej} e WHERE e.finess = s.finess)"
        ) + self._count(
            f"SELECT COUNT(DISTINCT s.legal_entity_finess) FROM {s} s WHERE NOT EXISTS "
            f"(SELECT 1 FROM {ej} e WHERE e.finess = s.legal_entity_finess) AND NOT EXISTS "
            f"(SELECT 1 FROM {sj} j WHERE j.finess = s.legal_entity_finess)"
        )
        plan.legal_entities_updated = self._count(
            f"SELECT COUNT(*) FROM {sj} s JOIN {ej} e ON e.finess = s.finess "
            "WHERE e.row_hash <> s.row_hash OR e.status <> s.status"
        )
        if close_absent_entities:
            plan.legal_entities_closed = self._count(
                f"SELECT COUNT(*) FROM {ej} e WHERE e.status = %s AND NOT EXISTS "
                f"(SELECT 1 FROM {sj} s WHERE s.finess = e.finess)",
                [OPEN],
            )
        return plan

    # -- writing ----------------------------------------------------------------------------

    def _insert_select(
        self,
        model: type[Model],
        expressions: dict[str, str | tuple[str, list[Any]]],
        tail: str,
        params: Sequence[Any] = (),
    ) -> None:
        """``INSERT INTO model (...) SELECT ... tail``; columns not given get their default.

        An expression is SQL, or (SQL, its parameters); ``params`` are the tail's.
        """
        columns, selects, values = [], [], []
        for field in model._meta.concrete_fields:
            if field.primary_key:
                continue
            name = field.attname
            columns.append(q(str(field.column)))
            if name in expressions:
                expression = expressions[name]
                sql, sql_params = expression if isinstance(expression, tuple) else (expression, [])
                selects.append(sql)
                values.extend(sql_params)
            elif name in {"created_at", "updated_at"}:
                selects.append("%s")
                values.append(self.now)
            elif name == "last_import_id":
                selects.append("%s")
                values.append(self.run_id)
            elif field.has_default():
                selects.append("%s")
                values.append(field.get_default())
            elif field.null:
                selects.append("NULL")
            else:
                selects.append("%s")
                values.append("")
        self.cursor.execute(
            f"INSERT INTO {_table(model)} ({', '.join(columns)}) "
            f"SELECT {', '.join(selects)} {tail}",
            [*values, *params],
        )

    def categories_upsert(self) -> None:
        s = q(STAGING_ET)
        self.cursor.execute(
            f"INSERT INTO {_table(Category)} (code, label, aggregate_code, aggregate_label) "
            "SELECT category_code, MAX(category_label), MAX(aggregate_category_code), "
            f"MAX(aggregate_category_label) FROM {s} WHERE true GROUP BY category_code "
            "ON CONFLICT (code) DO UPDATE SET label = excluded.label, "
            "aggregate_code = excluded.aggregate_code, aggregate_label = excluded.aggregate_label"
        )

    def legal_entities_merge(self, *, close_absent: bool) -> None:
        ej, sj, s = _table(LegalEntity), q(STAGING_EJ), q(STAGING_ET)
        columns = [c for c in EJ_COLUMNS if c != "finess"]
        self._insert_select(
            LegalEntity,
            {"finess": "s.finess", **{c: f"s.{q(c)}" for c in columns}},
            f"FROM {sj} s WHERE NOT EXISTS (SELECT 1 FROM {ej} e WHERE e.finess = s.finess)",
        )
        # History of legal entities, before their rows are overwritten (as for establishments).
        changed = f"FROM {ej} e JOIN {sj} s ON s.finess = e.finess WHERE e.row_hash <> s.row_hash"
        for name in LEGAL_ENTITY_TRACKED_FIELDS:
            column = q(name)
            self._legal_entity_history(
                name,
                f"COALESCE(CAST(e.{column} AS TEXT), '')",
                f"COALESCE(CAST(s.{column} AS TEXT), '')",
                f"{changed} AND e.{column} IS DISTINCT FROM s.{column}",
            )
        self._legal_entity_history(
            "status",
            "e.status",
            "s.status",
            f"FROM {ej} e JOIN {sj} s ON s.finess = e.finess WHERE e.status <> s.status",
        )
        if close_absent:
            self._legal_entity_history(
                "status",
                "e.status",
                f"'{CLOSED}'",
                f"FROM {ej} e WHERE e.status = '{OPEN}' AND NOT EXISTS "
                f"(SELECT 1 FROM {sj} s WHERE s.finess = e.finess)",
            )
        assignments = ", ".join(f"{q(c)} = s.{q(c)}" for c in columns)
        self.cursor.execute(
            f"UPDATE {ej} AS e SET {assignments}, last_import_id = %s, updated_at = %s "
            f"FROM {sj} s WHERE e.finess = s.finess "
            "AND (e.row_hash <> s.row_hash OR e.status <> s.status)",
            [self.run_id, self.now],
        )
        if close_absent:
            self.cursor.execute(
                f"UPDATE {ej} SET status = %s, closed_at = %s, last_import_id = %s, "
                f"updated_at = %s WHERE status = %s AND NOT EXISTS "
                f"(SELECT 1 FROM {sj} s WHERE s.finess = {ej}.finess)",
                [CLOSED, self.extract_date, self.run_id, self.now, OPEN],
            )
        # Legal entities only named by file 502: created from their number until a 501 names
        # them (their name is then replaced, the placeholder row having an empty hash).
        self._insert_select(
            LegalEntity,
            {
                "finess": "s.legal_entity_finess",
                "name": ("CAST(%s AS TEXT) || s.legal_entity_finess", [PLACEHOLDER_NAME]),
                "territory_code": "MIN(s.territory_code)",
                "finess_department": "MIN(s.finess_department)",
            },
            f"FROM {s} s WHERE NOT EXISTS (SELECT 1 FROM {ej} e "
            "WHERE e.finess = s.legal_entity_finess) GROUP BY s.legal_entity_finess",
            [],
        )

    def establishments_merge(self, plan: Plan) -> None:
        """Write what ``plan`` found: history first (old values), then inserts and updates."""
        et, ej, s, m = _table(Establishment), _table(LegalEntity), q(STAGING_ET), q(MATCH)
        corrections = _table(Correction)
        skipped = _STAGING_ONLY | {"finess", "status", "closed_at"}
        plain = [c for c in ET_COLUMNS if c not in skipped]
        existing = f"'{UPDATED}', '{REOPENED}', '{CLOSING}'"
        matched = (
            f"FROM {m} m JOIN {s} s ON s.finess = m.finess "
            f"JOIN {et} e ON e.id = m.establishment_id "
            f"JOIN {ej} j ON j.finess = s.legal_entity_finess WHERE m.outcome IN ({existing})"
        )

        if not (plan.updated + plan.reopened + plan.closed):
            self._insert_new(plain)  # a first import: no history to write, nothing to update
            return

        # 1. History, before the rows are overwritten: one row per changed field. A field
        # under an active correction is left out: its visible value does not change.
        for name in TRACKED_FIELDS:
            column = q(name)
            condition = f"e.{column} IS DISTINCT FROM s.{column}"
            if name in GEO_FIELDS:
                condition += " AND s.has_geo = 1"
            if name in Establishment.CURATABLE_FIELDS:
                condition += (
                    f" AND NOT EXISTS (SELECT 1 FROM {corrections} c WHERE "
                    f"c.establishment_id = e.id AND c.field = %s AND c.cleared_at IS NULL)"
                )
            self._history(
                name,
                f"COALESCE(CAST(e.{column} AS TEXT), '')",
                f"COALESCE(CAST(s.{column} AS TEXT), '')",
                f"{matched} AND {condition}",
                [name] if name in Establishment.CURATABLE_FIELDS else [],
            )
        self._history(
            "legal_entity",
            f"(SELECT old.finess FROM {ej} old WHERE old.id = e.legal_entity_id)",
            "j.finess",
            f"{matched} AND e.legal_entity_id <> j.id",
        )
        self._history("status", "e.status", "s.status", f"{matched} AND e.status <> s.status")
        self._history(
            "status",
            "e.status",
            f"'{CLOSED}'",
            f"FROM {m} m JOIN {et} e ON e.id = m.establishment_id WHERE m.outcome = '{VANISHED}'",
        )

        # 2. New rows.
        self._insert_new(plain)

        # 3. Changed rows, closed rows coming back, rows the source closes. A file without
        # geolocation lines (502) leaves the stored coordinates alone; a row whose search text
        # was not computed (its source fields are unchanged) keeps its own.
        assignments = []
        for c in plain:
            if c in GEO_FIELDS:
                assignments.append(
                    f"{q(c)} = CASE WHEN s.has_geo = 1 THEN s.{q(c)} ELSE e.{q(c)} END"
                )
            elif c == "search_text":
                assignments.append(
                    f"{q(c)} = CASE WHEN s.{q(c)} = '' THEN e.{q(c)} ELSE s.{q(c)} END"
                )
            else:
                assignments.append(f"{q(c)} = s.{q(c)}")
        self.cursor.execute(
            f"UPDATE {et} AS e SET {', '.join(assignments)}, "
            "legal_entity_id = j.id, status = s.status, "
            f"closed_at = CASE WHEN s.status = '{CLOSED}' THEN "
            "COALESCE(s.closed_at, e.closed_at, %s) END, "
            "last_import_id = %s, updated_at = %s "
            f"FROM {m} m JOIN {s} s ON s.finess = m.finess "
            f"JOIN {ej} j ON j.finess = s.legal_entity_finess "
            f"WHERE e.id = m.establishment_id AND m.outcome IN ({existing})",
            [self.extract_date, self.run_id, self.now],
        )

        # 4. Open rows absent from a stock file: closed on the extract date (never deleted).
        self.cursor.execute(
            f"UPDATE {et} SET status = %s, closed_at = %s, last_import_id = %s, "
            f"updated_at = %s WHERE id IN "
            f"(SELECT m.establishment_id FROM {m} m WHERE m.outcome = '{VANISHED}')",
            [CLOSED, self.extract_date, self.run_id, self.now],
        )

    def _insert_new(self, plain: list[str]) -> None:
        """The new rows, with their legal entity (created beforehand if need be)."""
        ej, s, m = _table(LegalEntity), q(STAGING_ET), q(MATCH)
        expressions: dict[str, str | tuple[str, list[Any]]] = {c: f"s.{q(c)}" for c in plain}
        expressions |= {
            "finess": "s.finess",
            "legal_entity_id": "j.id",
            "status": "s.status",
            "closed_at": (
                f"CASE WHEN s.status = '{CLOSED}' THEN COALESCE(s.closed_at, %s) END",
                [self.extract_date],
            ),
        }
        self._insert_select(
            Establishment,
            expressions,
            f"FROM {m} m JOIN {s} s ON s.finess = m.finess "
            f"JOIN {ej} j ON j.finess = s.legal_entity_finess WHERE m.outcome = '{CREATED}'",
        )

    def _history(
        self, field: str, old: str, new: str, tail: str, params: Sequence[Any] = ()
    ) -> None:
        """History rows from ``tail`` (``FROM ... WHERE``, with ``params``); old/new: no %s."""
        self.cursor.execute(
            f"INSERT INTO {_table(DirectoryChange)} (establishment_id, legal_entity_id, field, "
            "old_value, new_value, source, import_run_id, actor_id, created_at) "
            f"SELECT e.id, NULL, %s, {old}, {new}, %s, %s, NULL, %s {tail}",
            [field, DirectoryChange.Source.IMPORT, self.run_id, self.now, *params],
        )

    def _legal_entity_history(self, field: str, old: str, new: str, tail: str) -> None:
        """History rows of legal entities from ``tail`` (``FROM ... e ... WHERE``)."""
        self.cursor.execute(
            f"INSERT INTO {_table(DirectoryChange)} (establishment_id, legal_entity_id, field, "
            "old_value, new_value, source, import_run_id, actor_id, created_at) "
            f"SELECT NULL, e.id, %s, {old}, {new}, %s, %s, NULL, %s {tail}",
            [field, DirectoryChange.Source.IMPORT, self.run_id, self.now],
        )

    # -- curation ---------------------------------------------------------------------------

    def corrections_reapply(self) -> list[int]:
        """Put back every active correction the merge overwrote; the ids of the rows touched."""
        et, corrections = _table(Establishment), _table(Correction)
        touched: set[int] = set()
        for name in Establishment.CURATABLE_FIELDS:
            column = q(name)
            self.cursor.execute(
                f"SELECT e.id FROM {et} e JOIN {corrections} c ON c.establishment_id = e.id "
                f"WHERE c.field = %s AND c.cleared_at IS NULL AND e.{column} <> c.value",
                [name],
            )
            ids = [row[0] for row in self.cursor.fetchall()]
            if not ids:
                continue
            touched.update(ids)
            self.cursor.execute(
                f"UPDATE {et} AS e SET {column} = c.value FROM {corrections} c "
                f"WHERE c.establishment_id = e.id AND c.field = %s AND c.cleared_at IS NULL "
                f"AND e.{column} <> c.value",
                [name],
            )
        return sorted(touched)

    def disagreements(self) -> list[dict[str, object]]:
        """Active corrections whose field the source now gives differently than when made."""
        et, corrections, s = _table(Establishment), _table(Correction), q(STAGING_ET)
        found = []
        for name in Establishment.CURATABLE_FIELDS:
            if name not in ET_COLUMNS:
                continue  # e-mail: not in the source files
            self.cursor.execute(
                f"SELECT c.id, e.finess, c.value, c.source_value, s.{q(name)} "
                f"FROM {corrections} c JOIN {et} e ON e.id = c.establishment_id "
                f"JOIN {s} s ON s.finess = e.finess WHERE c.field = %s "
                f"AND c.cleared_at IS NULL AND s.{q(name)} <> c.source_value ORDER BY e.finess",
                [name],
            )
            for correction_id, finess, value, source_value, new in self.cursor.fetchall():
                found.append(
                    {
                        "correction": correction_id,
                        "finess": finess,
                        "field": name,
                        "corrected_value": value,
                        "source_value_at_correction": source_value,
                        "new_source_value": new,
                    }
                )
        return found
