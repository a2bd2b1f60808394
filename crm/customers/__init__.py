"""Customers: the list, the customer page with the whole history, edit, merge, and channel identities."""
