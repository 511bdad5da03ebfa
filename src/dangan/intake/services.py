"""Intake's use cases: submit, and ask where a submission stands."""

from dangan.intake.status import submission_status
from dangan.intake.submitting import submit

__all__ = ["submission_status", "submit"]
