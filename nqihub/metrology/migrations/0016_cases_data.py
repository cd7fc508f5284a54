"""Every existing filing and verification application becomes a case under the number it was
given. Filings get a timeline built from their own submitted and reviewed fields; the
applications' timeline steps (ApplicationEvent) move into the case timeline as they are.
Set-based SQL that SQLite and PostgreSQL both accept: one INSERT … SELECT per step, one UPDATE
per table for the links."""

from django.db import migrations

FILINGS = "metrology_instrumentfiling"
APPLICATIONS = "metrology_verificationapplication"
CASE_COLUMNS = """kind, number, state, applicant_organization_id, handling_organization_id, division_id,
    opened_at, submitted_by_id, submitted_at, deadline, decided_by_id, decided_at, closed_at,
    rating_score, rating_comment, rated_by_id, rated_at"""

FILING_CASES = f"""
INSERT INTO cases_case ({CASE_COLUMNS})
SELECT 'instrument_filing', f.number, f.state, f.organization_id, NULL, f.division_id,
    f.submitted_at, f.submitted_by_id, f.submitted_at, NULL,
    CASE WHEN f.state IN ('approved', 'returned') THEN f.reviewed_by_id ELSE NULL END,
    CASE WHEN f.state IN ('approved', 'returned') THEN f.reviewed_at ELSE NULL END,
    CASE WHEN f.state = 'approved' THEN f.reviewed_at ELSE NULL END,
    NULL, '', NULL, NULL
FROM {FILINGS} f WHERE f.case_id IS NULL
"""

_EVENT = (
    "INSERT INTO cases_caseevent (case_id, at, actor_id, kind, note) SELECT f.case_id, {at}, {actor}, '{step}', {note} FROM "
    + FILINGS
    + " f WHERE {where}"
)
_RESUBMITTED = "f.return_reason <> '' AND f.state IN ('submitted', 'approved')"
FILING_EVENTS = [
    # A filing resubmitted after a return: the return (while it awaits review again, its time
    # and reviewer are still on the row), then the resubmission.
    _EVENT.format(
        at="f.reviewed_at",
        actor="f.reviewed_by_id",
        step="returned",
        note="SUBSTR(f.return_reason, 1, 500)",
        where="f.state = 'submitted' AND f.return_reason <> '' AND f.reviewed_at IS NOT NULL",
    ),
    _EVENT.format(
        at="f.submitted_at",
        actor="f.submitted_by_id",
        step="resubmitted",
        note="CASE WHEN f.state = 'approved' THEN SUBSTR(f.return_reason, 1, 500) ELSE '' END",
        where=_RESUBMITTED,
    ),
    _EVENT.format(
        at="f.submitted_at", actor="f.submitted_by_id", step="submitted", note="''", where=f"NOT ({_RESUBMITTED})"
    ),
    _EVENT.format(
        at="f.reviewed_at",
        actor="f.reviewed_by_id",
        step="returned",
        note="SUBSTR(f.return_reason, 1, 500)",
        where="f.state = 'returned' AND f.reviewed_at IS NOT NULL",
    ),
    _EVENT.format(
        at="f.reviewed_at",
        actor="f.reviewed_by_id",
        step="approved",
        note="''",
        where="f.state = 'approved' AND f.reviewed_at IS NOT NULL",
    ),
]


def _last_step(step: str) -> str:
    return f"(SELECT MAX(e.at) FROM metrology_applicationevent e WHERE e.application_id = a.id AND e.kind = '{step}')"


APPLICATION_CASES = f"""
INSERT INTO cases_case ({CASE_COLUMNS})
SELECT 'verification_application', a.number,
    CASE WHEN a.state IN ('scheduled', 'completed') THEN 'accepted' ELSE a.state END,
    a.organization_id, a.institution_id, a.division_id,
    a.submitted_at, a.submitted_by_id, a.submitted_at, a.accept_by, a.decided_by_id, a.decided_at,
    CASE
        WHEN a.state = 'rejected' THEN a.decided_at
        WHEN a.state = 'withdrawn' THEN COALESCE({_last_step("withdrawn")}, a.submitted_at)
        WHEN a.state = 'completed' THEN COALESCE({_last_step("completed")}, a.decided_at)
        ELSE NULL
    END,
    NULL, '', NULL, NULL
FROM {APPLICATIONS} a WHERE a.case_id IS NULL
"""

APPLICATION_EVENTS = f"""
INSERT INTO cases_caseevent (case_id, at, actor_id, kind, note)
SELECT a.case_id, e.at, e.actor_id, e.kind, e.note
FROM metrology_applicationevent e JOIN {APPLICATIONS} a ON a.id = e.application_id
ORDER BY e.id
"""

APPLICATION_EVENTS_BACK = f"""
INSERT INTO metrology_applicationevent (application_id, at, actor_id, kind, note)
SELECT a.id, e.at, e.actor_id, e.kind, e.note
FROM cases_caseevent e JOIN {APPLICATIONS} a ON a.case_id = e.case_id
ORDER BY e.id
"""


def _link(table: str) -> str:
    return f"UPDATE {table} SET case_id = (SELECT c.id FROM cases_case c WHERE c.number = {table}.number) WHERE case_id IS NULL"


def _drop_events(kind: str) -> str:
    return f"DELETE FROM cases_caseevent WHERE case_id IN (SELECT id FROM cases_case WHERE kind = '{kind}')"


def _drop_cases(kind: str) -> str:
    return f"DELETE FROM cases_case WHERE kind = '{kind}'"


class Migration(migrations.Migration):
    dependencies = [("metrology", "0015_cases")]

    operations = [
        migrations.RunSQL(FILING_CASES, reverse_sql=_drop_cases("instrument_filing")),
        migrations.RunSQL(_link(FILINGS), reverse_sql=f"UPDATE {FILINGS} SET case_id = NULL"),
        migrations.RunSQL(FILING_EVENTS, reverse_sql=_drop_events("instrument_filing")),
        migrations.RunSQL(APPLICATION_CASES, reverse_sql=_drop_cases("verification_application")),
        migrations.RunSQL(_link(APPLICATIONS), reverse_sql=f"UPDATE {APPLICATIONS} SET case_id = NULL"),
        migrations.RunSQL(
            APPLICATION_EVENTS,
            reverse_sql=[APPLICATION_EVENTS_BACK, _drop_events("verification_application")],
        ),
    ]
