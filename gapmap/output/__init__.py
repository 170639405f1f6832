"""Output: the files of a run (tables, GeoPackage), the web map, the report, labels in EN/FR."""
