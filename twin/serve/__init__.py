"""Serving floor simulation: traces or generated traffic through routed replicas as inference engines run them.

`traffic` draws or `trace` replays the requests; `replicas` turns the token model into replica
types (step times, KV memory); `engine` plays them step by step (compiled); `run` ties a fleet
and its traffic together; `report` computes what an operator watches.
"""
