"""Every existing registration becomes a case (kind ``enterprise_registration``) under the number it
was given, with a timeline built from its own submitted and reviewed fields. Set-based SQL that
SQLite and PostgreSQL both accept: one INSERT … SELECT per step, one UPDATE for the links."""

from django.db import migrations

TABLE = "organizations_enterpriseregistration"

CASES = f"""
INSERT INTO cases_case (kind, number, state, applicant_organization_id, handling_organization_id, division_id,
    opened_at, submitted_by_id, submitted_at, deadline, decided_by_id, decided_at, closed_at,
    rating_score, rating_comment, rated_by_id, rated_at)
SELECT 'enterprise_registration', r.number, r.state, r.organization_id, NULL, r.division_id,
    r.submitted_at, r.applicant_id, r.submitted_at, NULL,
    CASE WHEN r.state IN ('approved', 'returned') THEN r.reviewed_by_id ELSE NULL END,
    CASE WHEN r.state IN ('approved', 'returned') THEN r.reviewed_at ELSE NULL END,
    CASE WHEN r.state = 'approved' THEN r.reviewed_at WHEN r.state = 'withdrawn' THEN r.submitted_at ELSE NULL END,
    NULL, '', NULL, NULL
FROM {TABLE} r WHERE r.case_id IS NULL
"""

LINK = f"""
UPDATE {TABLE} SET case_id = (SELECT c.id FROM cases_case c WHERE c.number = {TABLE}.number)
WHERE case_id IS NULL
"""

_EVENT = (
    "INSERT INTO cases_caseevent (case_id, at, actor_id, kind, note) SELECT r.case_id, {at}, {actor}, '{step}', {note} FROM "
    + TABLE
    + " r WHERE {where}"
)
_RESUBMITTED = "r.return_reason <> '' AND r.state IN ('submitted', 'approved')"
EVENTS = [
    # A registration resubmitted after a return: the return (when still awaiting review, its
    # time and reviewer are still on the row), then the resubmission.
    _EVENT.format(
        at="r.reviewed_at",
        actor="r.reviewed_by_id",
        step="returned",
        note="SUBSTR(r.return_reason, 1, 500)",
        where="r.state = 'submitted' AND r.return_reason <> '' AND r.reviewed_at IS NOT NULL",
    ),
    _EVENT.format(
        at="r.submitted_at",
        actor="r.applicant_id",
        step="resubmitted",
        note="CASE WHEN r.state = 'approved' THEN SUBSTR(r.return_reason, 1, 500) ELSE '' END",
        where=_RESUBMITTED,
    ),
    _EVENT.format(
        at="r.submitted_at", actor="r.applicant_id", step="submitted", note="''", where=f"NOT ({_RESUBMITTED})"
    ),
    _EVENT.format(
        at="r.reviewed_at",
        actor="r.reviewed_by_id",
        step="returned",
        note="SUBSTR(r.return_reason, 1, 500)",
        where="r.state = 'returned' AND r.reviewed_at IS NOT NULL",
    ),
    _EVENT.format(
        at="r.reviewed_at",
        actor="r.reviewed_by_id",
        step="approved",
        note="''",
        where="r.state = 'approved' AND r.reviewed_at IS NOT NULL",
    ),
]

UNLINK = f"UPDATE {TABLE} SET case_id = NULL"
DROP_EVENTS = (
    "DELETE FROM cases_caseevent WHERE case_id IN (SELECT id FROM cases_case WHERE kind = 'enterprise_registration')"
)
DROP = "DELETE FROM cases_case WHERE kind = 'enterprise_registration'"


class Migration(migrations.Migration):
    dependencies = [("organizations", "0003_registration_case")]

    operations = [
        migrations.RunSQL(CASES, reverse_sql=DROP),
        migrations.RunSQL(LINK, reverse_sql=UNLINK),
        migrations.RunSQL(EVENTS, reverse_sql=DROP_EVENTS),
    ]
