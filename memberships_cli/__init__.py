"""memberships: manage your own organization memberships on Bird's Accounts API."""

__version__ = "0.1.0"
