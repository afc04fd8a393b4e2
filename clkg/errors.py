"""The one error of the query path: a query the endpoint will not answer, with the HTTP status to give."""
from __future__ import annotations


class QueryError(Exception):
    """A query the endpoint will not answer; `status` is the HTTP status to give."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message
