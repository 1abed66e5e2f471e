"""A local fake of the Veesing provider: a real HTTP server for the demo, tests and benchmarks."""

from .config import SimulatorConfig
from .record import Record
from .server import RemoteAddressRefused, Simulator

__all__ = ["Record", "RemoteAddressRefused", "Simulator", "SimulatorConfig"]
