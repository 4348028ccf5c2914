"""Connection profiles: their services, pages, form and the one getter a view uses."""
