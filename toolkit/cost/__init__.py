"""`cargohold cost`: a monthly estimate per bucket and table, a lifecycle projection, leaks, the budget.

- `prices` / `prices.json`: the dated, region-aware price table that ships with the package.
- `usage`: the usage model (and `--usage FILE` planning files); `measure`: every AWS call.
- `estimate`: pure money arithmetic; `checks`: leaks and the budget as findings; `run`: the report.
"""
