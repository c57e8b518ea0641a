"""Web layer (views, templates, middleware)."""
