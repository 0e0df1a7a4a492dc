"""Processors that render a FlowFile's attributes as JSON or CSV (NiFi §9.1)."""
