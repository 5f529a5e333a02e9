"""Accounts: the portal's users, their roles (viewer, operator, approver, admin) and API tokens."""
