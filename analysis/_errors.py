"""Exception hierarchy of the analysis package."""

from __future__ import annotations


class AnalysisError(ValueError):
    """Root of every error the analysis package raises on bad input."""


class NotEstimableError(AnalysisError):
    """An estimate cannot be formed (e.g. no observations, a lonely PSU under 'fail')."""
