"""Receiving what the provider pushes: the callback view, reading a body into events
(``parsing``), and storing and applying receipts and replies."""
