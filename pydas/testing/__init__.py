"""A local emulator of the Midas Server 3 web API, for tests and demos."""

__all__: list = []
