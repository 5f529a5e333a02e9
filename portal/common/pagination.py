"""Page-number pagination for every list in the API, with a page size the caller may set."""

from __future__ import annotations

from rest_framework.pagination import PageNumberPagination

__all__ = ["Pagination"]


class Pagination(PageNumberPagination):
    """``?page=`` and ``?page_size=`` (at most 500); the body holds count, next, previous."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
