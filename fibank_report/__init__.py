"""The HTML report: one self-contained page built from the dbt marts of either warehouse.

`python -m fibank_report` (or `make report`) reads the marts through `marts.py`, the only module that
knows their columns, and writes `output/report.html` with the data and the vendored chart and table
libraries inline, so the page opens from disk with no network and no server.
"""
