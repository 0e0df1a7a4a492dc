"""The plugin contract: what processors and controller services are written against
(processor, context, session interface, properties, relationships, FlowFile, the
repository interfaces the contract names). Imports only leaves and ``expression``."""
