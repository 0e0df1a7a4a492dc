"""placeholder"""
def date_to_string(millis): return str(millis)
def instant_to_string(n): return str(n)
def parse_default_date(t): return None
def parse_iso_instant(t): return None
