"""Bybit v5 REST: a signed async client, typed errors and a header-driven rate limiter."""

from hayate_bybit.rest.client import BybitRest, Reply
from hayate_bybit.rest.errors import (
    BybitAuthError,
    BybitError,
    BybitOrderError,
    BybitRateLimited,
    BybitRequestError,
    BybitServerError,
    BybitTimeout,
    BybitTimestampError,
    BybitUnavailable,
    DuplicateOrderLinkId,
    OrderClosed,
    OrderNotFound,
    error_for,
)
from hayate_bybit.rest.limiter import RateLimiter, limit_key

__all__ = [
    "BybitAuthError",
    "BybitError",
    "BybitOrderError",
    "BybitRateLimited",
    "BybitRequestError",
    "BybitRest",
    "BybitServerError",
    "BybitTimeout",
    "BybitTimestampError",
    "BybitUnavailable",
    "DuplicateOrderLinkId",
    "OrderClosed",
    "OrderNotFound",
    "RateLimiter",
    "Reply",
    "error_for",
    "limit_key",
]
