"""placeholder"""
def substitute_parameters(text, lookup): return text
def parameter_references(text): return []
