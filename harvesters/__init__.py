"""I/O toward sources. A harvester pages through one source lazily and yields events
(`harvesters.events`); it imports `mappings` only and knows nothing of the store or index."""
