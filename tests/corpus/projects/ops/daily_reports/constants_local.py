PREFIX = "acme"
