"""Every renderer of the CLI, one job a module:

- `escape`: terminal escaping, JSON text, CSV cells and colour (all escaping lives here);
- `fields`: field selection (`--fields`), projection, and how each value is shown;
- `table`: the borderless table; `writers`: the five streaming list formats;
- `detail`: the `show` view; `outcomes`: the results of accept and leave.

Rules: stdout carries data only; JSON is printed with `json` (never through Rich) exactly as the API
sent it; every server-supplied string shown to a person goes through `escape_control` and is never
parsed as markup. Nothing is re-exported here: importing one of them never loads the others.
"""
