"""Sending: the worker's loop (``sender.Sender``), how a claimed batch ends
(``settling``), what is left to send (``backlog``), when a campaign may go
(``schedule``), reconciling uncertain batches, the workers' names and heartbeats."""

from .sender import Sender, SendReport

__all__ = ["SendReport", "Sender"]
