"""riskmap: geospatial risk maps of violence against asylum seekers on the US-Mexico border."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("riskmap")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0+unknown"

__all__ = ["__version__"]
