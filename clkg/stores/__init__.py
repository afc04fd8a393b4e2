"""Triple stores other than the embedded one: a remote store reached through the SPARQL 1.1 protocols
(`remote`), and loading the graphs of a built embedded store into it (`loading`)."""
