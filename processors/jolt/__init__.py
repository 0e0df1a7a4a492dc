"""Jolt JSON-to-JSON transformation processors (JoltTransformJSON)."""
