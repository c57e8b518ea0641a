"""Pages of the web application, one module per part (issue 10)."""
