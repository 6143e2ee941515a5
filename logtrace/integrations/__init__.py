"""Bridges to other libraries: HTTP clients and servers, process pools, OpenTelemetry. Each is
imported only when used; its library is an optional extra."""
