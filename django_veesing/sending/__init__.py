"""Sending: the worker's loop (``sender.Sender``), claims and how a batch ends
(``settling``), what is left to send (``backlog``), reconciling uncertain batches, the
workers' names and heartbeats, and PostgreSQL's one-statement claim and settlement."""

from .sender import Sender, SendReport

__all__ = ["SendReport", "Sender"]
