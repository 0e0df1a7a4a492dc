"""JSON processors: EvaluateJsonPath, SplitJson (Jayway JsonPath dialect of
:mod:`flowengine.expression.jayway`)."""
