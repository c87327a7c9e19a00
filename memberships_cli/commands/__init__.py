"""One module per area; each has `register(app)`. Modules here import only typer and light code at
the top: httpx, keyring and Rich load inside the commands that use them."""
