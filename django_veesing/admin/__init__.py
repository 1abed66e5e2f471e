"""The operators' screens. Importing this package registers them with the admin site."""

from . import campaigns, messages, records, verification  # noqa: F401
