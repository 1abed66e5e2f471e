"""SMS campaigns through Veesing (中昱维信) for Django."""

__version__ = "0.1.0.dev0"
