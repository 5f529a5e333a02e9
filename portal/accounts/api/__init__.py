"""The accounts API: tokens and who is asking."""
