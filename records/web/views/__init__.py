"""One module per page group; records/urls.py maps the URLs to them."""
