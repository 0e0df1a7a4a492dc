"""Flow control and coordination processors (NiFi §9.7): DetectDuplicate and friends,
built on the distributed map cache services of ``flowengine.controller_services.cache``."""
