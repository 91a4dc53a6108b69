"""Starts and stops the embedded PostgreSQL and Redis for `make run`; nothing else depends on it.

Qdrant Edge runs inside the backend process, so it has no server to manage here.
"""

from services.manager import EmbeddedServices, ServiceError

__all__ = ["EmbeddedServices", "ServiceError"]
