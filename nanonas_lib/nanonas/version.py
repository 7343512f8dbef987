"""nanonas's version, said once: the package, NanoBench's metadata and pyproject.toml (its dynamic version) read it."""

__version__ = "0.2.0"
