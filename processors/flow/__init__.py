"""Flow-control processors that need no cache service: copy, distribute, throttle and
count retries (NiFi §9.7). Cache-based ones (Wait/Notify, DetectDuplicate) live in
``flow_control``."""
