"""FlowFile and repository implementations and their wiring (in-memory and durable),
with the background-task health they report. Imports ``_api`` and leaves."""
