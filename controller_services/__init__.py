"""Built-in controller services, installed as ``flowengine.controller_services``.

Found by the engine through the ``flowengine.controller_services`` entry points.
"""
