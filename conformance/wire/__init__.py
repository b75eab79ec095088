"""Talking to a server: the HTTP transport, the exchange it captures, SSE and strict JSON reading, scrubbing,
sharing, pacing, the recording proxy."""
