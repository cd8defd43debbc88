"""The hot path's database work: statements compiled once (``compiled``), read through plain functions
(``lookups``)."""
