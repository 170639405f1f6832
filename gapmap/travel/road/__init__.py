"""Road networks: OSM / GraphML loading, the CSR graph, multi-source Dijkstra, isochrones."""
